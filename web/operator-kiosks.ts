// The operator console's goods kiosks: the list, issuing a kiosk (its token shown here once, to type into that
// kiosk's page) and deleting one, which ends its token. Over /api/v1/admin/kiosks; in Russian or English (web/i18n).
import { $, api, h } from "./api";
import { errorText, formatDateTime, onLocaleChange, say, t } from "./i18n";

interface Kiosk { id: string; name: string; createdAt: string; kioskToken?: string }

const state = {
  kiosks: null as Kiosk[] | null,
  /** The token of the kiosk issued last, shown until the list is drawn again for another reason. */
  issued: null as { id: string; token: string } | null,
};

/** Wires the Kiosks section; `token` reads the console's operator token at the time of each call. */
export function initKiosks(token: () => string | null): void {
  const section = $<HTMLDetailsElement>("kiosks-section");
  section.addEventListener("toggle", () => {
    if (section.open) void load(token);
  });
  onLocaleChange(render);
  $<HTMLFormElement>("kiosk-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void issue(token);
  });
}

async function load(token: () => string | null): Promise<void> {
  try {
    state.kiosks = (await api<Kiosk[]>("/admin/kiosks", { token: token() })).body;
  } catch (err) {
    say("kiosks-status", errorText(err), "error");
  }
  render(token);
}

async function issue(token: () => string | null): Promise<void> {
  const id = $<HTMLInputElement>("kiosk-id").value.trim().toLowerCase();
  const name = $<HTMLInputElement>("kiosk-name-input").value.trim();
  try {
    const res = await api<Kiosk>(`/admin/kiosks/${encodeURIComponent(id)}`, { method: "PUT", token: token(), json: { name } });
    state.issued = res.body.kioskToken ? { id, token: res.body.kioskToken } : null;
    say("kiosks-status", () => (state.issued ? t("operator.kiosks.issued", { name }) : t("operator.kiosks.renamed", { name })), "ok");
    $<HTMLFormElement>("kiosk-form").reset();
  } catch (err) {
    say("kiosks-status", errorText(err), "error");
  }
  await load(token);
}

async function remove(kiosk: Kiosk, token: () => string | null): Promise<void> {
  if (!confirm(t("operator.kiosks.confirmDelete", { name: kiosk.name }))) return;
  try {
    await api(`/admin/kiosks/${encodeURIComponent(kiosk.id)}`, { method: "DELETE", token: token() });
    if (state.issued?.id === kiosk.id) state.issued = null;
    say("kiosks-status", () => t("operator.kiosks.deleted", { name: kiosk.name }), "ok");
  } catch (err) {
    say("kiosks-status", errorText(err), "error");
  }
  await load(token);
}

let lastToken: () => string | null = () => null;

function render(token?: () => string | null): void {
  if (token) lastToken = token;
  const issued = $("kiosk-issued");
  issued.hidden = !state.issued;
  if (state.issued) {
    issued.replaceChildren(
      h("p", {}, t("operator.kiosks.tokenOnce")),
      h("code", { id: "kiosk-token", class: "token" }, state.issued.token),
    );
  }
  const list = $("kiosks");
  if (!state.kiosks) return list.replaceChildren();
  list.replaceChildren(
    ...(state.kiosks.length
      ? state.kiosks.map((k) =>
          h(
            "li",
            { "data-kiosk-id": k.id },
            h("span", {}, t("operator.kiosks.item", { name: k.name, id: k.id, date: formatDateTime(new Date(k.createdAt)) })),
            " ",
            button(t("operator.kiosks.delete"), () => void remove(k, lastToken)),
          ),
        )
      : [h("li", { class: "hint" }, t("operator.kiosks.none"))]),
  );
}

function button(label: string, onClick: () => void): HTMLButtonElement {
  const b = h("button", { type: "button", class: "secondary" }, label);
  b.addEventListener("click", onClick);
  return b;
}
