// The operator console's catalog, sessions and sales: events, channels and products listed, created, edited,
// archived and restored; the selected event's live sessions per channel, each can be ended; its sales per product
// with revenue per currency, and the CSV download. Over the /api/v1/admin routes; in Russian or English (web/i18n).
import { $, api, h } from "./api";
import { errorText, formatDateTime, formatMoney, formatNumber, onLocaleChange, say, t } from "./i18n";

export interface AdminEvent {
  id: string;
  title: string;
  startsAt?: string;
  archivedAt?: string;
  limits?: Record<string, unknown>;
  [k: string]: unknown;
}
interface AdminChannel {
  id: string;
  eventId: string;
  title: string;
  originUrl: string;
  paid: boolean;
  productId?: string;
  archivedAt?: string;
  [k: string]: unknown;
}
interface AdminProduct {
  id: string;
  kind: "channel_pass" | "goods";
  title: string;
  description: string;
  price: { amount: number; currency: string };
  eventId?: string;
  channelIds?: string[];
  archivedAt?: string;
  [k: string]: unknown;
}
interface OperatorSession {
  id: string;
  channelId: string;
  viewer: { userId: string; login: string | null } | null;
  startedAt: string;
  playsOn: "edge" | "node" | null;
}
interface Revenue {
  currency: string;
  amount: number;
  sales: number;
}
interface SalesReport {
  products: { productId: string; title: string; kind: string | null; archived: boolean; sales: number; revenue: Revenue[] }[];
  events: { eventId: string | null; sales: number; revenue: Revenue[] }[];
  indexComplete: boolean;
}

export interface CatalogHost {
  token: () => string | null;
  eventId: () => string;
  /** The event list changed (created, renamed, archived): the console reloads its selector. */
  eventsChanged: () => Promise<void>;
}

const state = {
  host: null as CatalogHost | null,
  events: [] as AdminEvent[],
  channels: [] as AdminChannel[],
  products: [] as AdminProduct[],
  sessions: null as { total: number; sessions: OperatorSession[] } | null,
  sales: null as SalesReport | null,
  editing: { event: null as string | null, channel: null as string | null, product: null as string | null },
  csvUrls: [] as string[],
};

const enc = encodeURIComponent;
const token = () => state.host?.token() ?? null;

/** Money per currency, never summed across currencies: "₽598 · €25". */
function revenueText(revenue: Revenue[]): string {
  return revenue.length ? revenue.map((r) => formatMoney(r)).join(" · ") : formatMoney({ amount: 0, currency: "RUB" });
}

function stateBadge(archivedAt: string | undefined): HTMLElement {
  return h("span", { class: `badge ${archivedAt ? "locked" : "free"}` }, t(archivedAt ? "operator.catalog.archived" : "operator.catalog.live"));
}

function actionButtons(kind: "event" | "channel" | "product", id: string, title: string, archivedAt: string | undefined, onEdit: () => void, path: string): HTMLElement {
  const edit = h("button", { type: "button", class: "secondary", "data-action": "edit", "aria-label": t("operator.catalog.editLabel", { title }) }, t("operator.catalog.edit"));
  edit.addEventListener("click", onEdit);
  const archive = h(
    "button",
    { type: "button", class: "secondary", "data-action": archivedAt ? "restore" : "archive", "aria-label": t(archivedAt ? "operator.catalog.restoreLabel" : "operator.catalog.archiveLabel", { title }) },
    t(archivedAt ? "operator.catalog.restore" : "operator.catalog.archive"),
  );
  archive.addEventListener("click", () => void toggleArchive(kind, path, title, !archivedAt));
  return h("span", { class: "row actions", "data-for": id }, edit, archive);
}

async function toggleArchive(kind: "event" | "channel" | "product", path: string, title: string, archive: boolean): Promise<void> {
  try {
    await api(`${path}/${archive ? "archive" : "restore"}`, { method: "POST", token: token() });
    say("catalog-status", () => t(archive ? "operator.catalog.archivedDone" : "operator.catalog.restoredDone", { title }), "ok");
    if (kind === "event") await state.host?.eventsChanged();
    await loadCatalog();
  } catch (err) {
    say("catalog-status", errorText(err), "error");
  }
}

// ---- loading -------------------------------------------------------------------------------------

/** Reads the full catalog (archived records included) and the selected event's channels, then draws it. */
export async function loadCatalog(): Promise<void> {
  const eventId = state.host?.eventId() ?? "";
  try {
    const [events, products, channels] = await Promise.all([
      api<AdminEvent[]>("/admin/events", { token: token() }),
      api<AdminProduct[]>("/admin/products", { token: token() }),
      eventId ? api<AdminChannel[]>(`/admin/events/${enc(eventId)}/channels`, { token: token() }) : null,
    ]);
    state.events = events.body;
    state.products = products.body;
    state.channels = channels?.body ?? [];
  } catch (err) {
    say("catalog-status", errorText(err), "error");
  }
  renderCatalog();
}

export async function loadSessions(): Promise<void> {
  const eventId = state.host?.eventId() ?? "";
  if (!eventId) return;
  try {
    state.sessions = (await api<{ total: number; sessions: OperatorSession[] }>(`/admin/events/${enc(eventId)}/sessions?limit=1000`, { token: token() })).body;
    say("sessions-status", "");
  } catch (err) {
    state.sessions = null;
    say("sessions-status", errorText(err), "error");
  }
  renderSessions();
}

export async function loadSales(): Promise<void> {
  const eventId = state.host?.eventId() ?? "";
  if (!eventId) return;
  try {
    const [report] = await Promise.all([api<SalesReport>(`/admin/sales?eventId=${enc(eventId)}`, { token: token() }), prepareCsv(eventId)]);
    state.sales = report.body;
    say("sales-status", state.sales.indexComplete ? "" : () => t("operator.sales.indexing"));
  } catch (err) {
    state.sales = null;
    say("sales-status", errorText(err), "error");
  }
  renderSales();
}

/**
 * The CSV needs the operator token, which a plain link cannot send: the console fetches it and offers it as a
 * download link to the fetched copy (this event's sales, and every event's).
 */
async function prepareCsv(eventId: string): Promise<void> {
  for (const url of state.csvUrls) URL.revokeObjectURL(url);
  state.csvUrls = [];
  const links: [string, string, string][] = [
    ["sales-csv", `/admin/sales.csv?eventId=${enc(eventId)}`, `sales-${eventId}.csv`],
    ["sales-csv-all", "/admin/sales.csv", "sales-all.csv"],
  ];
  await Promise.all(
    links.map(async ([id, path, file]) => {
      const link = $<HTMLAnchorElement>(id);
      const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${token() ?? ""}` } });
      if (!res.ok) {
        link.hidden = true;
        return;
      }
      const url = URL.createObjectURL(await res.blob());
      state.csvUrls.push(url);
      link.href = url;
      link.download = file;
      link.hidden = false;
    }),
  );
}

// ---- drawing -------------------------------------------------------------------------------------

function renderCatalog(): void {
  const eventId = state.host?.eventId() ?? "";
  $("catalog-events").replaceChildren(
    ...(state.events.length
      ? state.events.map((e) =>
          h(
            "li",
            { class: "node", "data-event-id": e.id, "data-state": e.archivedAt ? "archived" : "live" },
            stateBadge(e.archivedAt),
            " ",
            h("strong", {}, e.title),
            " ",
            h("span", { class: "hint" }, [e.id, e.startsAt ? t("operator.catalog.startsAtValue", { time: formatDateTime(new Date(e.startsAt)) }) : ""].filter(Boolean).join(" · ")),
            " ",
            actionButtons("event", e.id, e.title, e.archivedAt, () => editEvent(e), `/admin/events/${enc(e.id)}`),
          ),
        )
      : [h("li", { class: "hint" }, t("operator.catalog.none"))]),
  );
  const productTitle = new Map(state.products.map((p) => [p.id, p.title]));
  $("catalog-channels").replaceChildren(
    ...(!eventId
      ? [h("li", { class: "hint" }, t("operator.event.none"))]
      : state.channels.length
        ? state.channels.map((c) =>
            h(
              "li",
              { class: "node", "data-channel-id": c.id, "data-state": c.archivedAt ? "archived" : "live" },
              stateBadge(c.archivedAt),
              " ",
              h("strong", {}, c.title),
              " ",
              h(
                "span",
                { class: "hint" },
                [c.id, c.paid ? t("operator.catalog.paidBy", { product: productTitle.get(c.productId ?? "") ?? c.productId ?? "" }) : t("operator.catalog.free"), originHost(c.originUrl)].join(" · "),
              ),
              " ",
              actionButtons("channel", c.id, c.title, c.archivedAt, () => editChannel(c), `/admin/events/${enc(c.eventId)}/channels/${enc(c.id)}`),
            ),
          )
        : [h("li", { class: "hint" }, t("operator.catalog.none"))]),
  );
  const eventTitle = new Map(state.events.map((e) => [e.id, e.title]));
  $("catalog-products").replaceChildren(
    ...(state.products.length
      ? state.products.map((p) =>
          h(
            "li",
            { class: "node", "data-product-id": p.id, "data-state": p.archivedAt ? "archived" : "live" },
            stateBadge(p.archivedAt),
            " ",
            h("strong", {}, p.title),
            " ",
            h(
              "span",
              { class: "hint" },
              [p.id, t(`operator.catalog.kind.${p.kind}`), formatMoney(p.price), p.eventId ? (eventTitle.get(p.eventId) ?? p.eventId) : t("operator.catalog.noEvent")].join(" · "),
            ),
            " ",
            actionButtons("product", p.id, p.title, p.archivedAt, () => editProduct(p), `/admin/products/${enc(p.id)}`),
          ),
        )
      : [h("li", { class: "hint" }, t("operator.catalog.none"))]),
  );
  fillSelects();
  renderFormHeadings();
}

function originHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function renderSessions(): void {
  const list = $("sessions-list");
  const s = state.sessions;
  if (!s) return list.replaceChildren(h("p", { class: "hint" }, t("operator.figures.notAvailable")));
  $("sessions-count").textContent = t("operator.sessions.count", { count: s.total }) + (s.total > s.sessions.length ? ` (${t("operator.sessions.more", { shown: s.sessions.length })})` : "");
  if (s.sessions.length === 0) return list.replaceChildren(h("p", { class: "hint" }, t("operator.sessions.none")));
  const titles = new Map(state.channels.map((c) => [c.id, c.title]));
  const byChannel = new Map<string, OperatorSession[]>();
  for (const x of s.sessions) byChannel.set(x.channelId, [...(byChannel.get(x.channelId) ?? []), x]);
  list.replaceChildren(
    ...[...byChannel].map(([channelId, sessions]) =>
      h(
        "div",
        { class: "session-group", "data-channel-id": channelId },
        h("h4", {}, t("operator.sessions.channelHeading", { channel: titles.get(channelId) ?? channelId, count: sessions.length })),
        h(
          "ul",
          { class: "nodes" },
          ...sessions.map((x) => {
            const end = h("button", { type: "button", class: "secondary", "aria-label": t("operator.sessions.endLabel", { id: shortId(x.id) }) }, t("operator.sessions.end"));
            end.addEventListener("click", () => void endSession(x.id));
            const who = x.viewer ? (x.viewer.login ?? t("operator.sessions.unknownViewer")) : t("operator.sessions.anonymous");
            return h(
              "li",
              { class: "node", "data-session-id": x.id },
              h("strong", {}, who),
              " ",
              h(
                "span",
                { class: "hint" },
                [shortId(x.id), t("operator.sessions.started", { time: formatDateTime(new Date(x.startedAt)) }), t(`operator.sessions.playsOn.${x.playsOn ?? "unknown"}`)].join(" · "),
              ),
              " ",
              end,
            );
          }),
        ),
      ),
    ),
  );
}

/** The distinguishing part of a session id, short enough for a phone screen. */
function shortId(id: string): string {
  return id.slice(0, 12);
}

async function endSession(sessionId: string): Promise<void> {
  try {
    await api(`/admin/events/${enc(state.host?.eventId() ?? "")}/sessions/${enc(sessionId)}`, { method: "DELETE", token: token() });
  } catch (err) {
    return say("sessions-status", errorText(err), "error");
  }
  await loadSessions();
  say("sessions-status", () => t("operator.sessions.ended", { id: shortId(sessionId) }), "ok");
}

function renderSales(): void {
  const body = $("sales-products");
  const r = state.sales;
  if (!r) return body.replaceChildren();
  const ev = r.events.find((e) => e.eventId === state.host?.eventId());
  $("sales-total").textContent = t("operator.sales.eventTotal", { count: ev?.sales ?? 0, revenue: revenueText(ev?.revenue ?? []) });
  body.replaceChildren(
    ...(r.products.length
      ? r.products.map((p) =>
          h(
            "tr",
            { "data-product-id": p.productId },
            h("th", { scope: "row" }, p.title, p.archived ? ` (${t("operator.catalog.archived")})` : ""),
            h("td", { class: "num" }, formatNumber(p.sales)),
            h("td", { class: "num" }, revenueText(p.revenue)),
          ),
        )
      : [h("tr", {}, h("td", { colspan: "3", class: "hint" }, t("operator.sales.none")))]),
  );
}

// ---- forms ---------------------------------------------------------------------------------------

function fillSelects(): void {
  const productSelect = $<HTMLSelectElement>("ch-product");
  const keep = productSelect.value;
  productSelect.replaceChildren(
    h("option", { value: "" }, t("operator.catalog.noProduct")),
    ...state.products.filter((p) => p.kind === "channel_pass").map((p) => h("option", { value: p.id }, `${p.title} (${p.id})`)),
  );
  productSelect.value = keep;
  const eventSelect = $<HTMLSelectElement>("pr-event");
  const keepEvent = eventSelect.value;
  eventSelect.replaceChildren(h("option", { value: "" }, t("operator.catalog.noEvent")), ...state.events.map((e) => h("option", { value: e.id }, `${e.title} (${e.id})`)));
  eventSelect.value = keepEvent;
}

function renderFormHeadings(): void {
  const heading = (id: string, editing: string | null, title: string | undefined, newKey: "operator.catalog.newEvent" | "operator.catalog.newChannel" | "operator.catalog.newProduct") => {
    $(id).textContent = editing ? t("operator.catalog.editing", { title: title ?? editing }) : t(newKey);
  };
  heading("ev-form-title", state.editing.event, state.events.find((e) => e.id === state.editing.event)?.title, "operator.catalog.newEvent");
  heading("ch-form-title", state.editing.channel, state.channels.find((c) => c.id === state.editing.channel)?.title, "operator.catalog.newChannel");
  heading("pr-form-title", state.editing.product, state.products.find((p) => p.id === state.editing.product)?.title, "operator.catalog.newProduct");
}

const input = (id: string) => $<HTMLInputElement>(id);

/** A datetime-local value for an ISO time, in the browser's zone. */
function localInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function editEvent(e: AdminEvent | null): void {
  state.editing.event = e?.id ?? null;
  input("cat-ev-id").value = e?.id ?? "";
  input("cat-ev-id").readOnly = e !== null;
  input("cat-ev-title").value = e?.title ?? "";
  input("cat-ev-starts").value = localInput(e?.startsAt);
  renderFormHeadings();
  if (e) input("cat-ev-title").focus();
}

function editChannel(c: AdminChannel | null): void {
  state.editing.channel = c?.id ?? null;
  input("ch-id").value = c?.id ?? "";
  input("ch-id").readOnly = c !== null;
  input("ch-title").value = c?.title ?? "";
  input("ch-origin").value = c?.originUrl ?? "";
  input("ch-paid").checked = c?.paid ?? false;
  $<HTMLSelectElement>("ch-product").value = c?.productId ?? "";
  renderFormHeadings();
  if (c) input("ch-title").focus();
}

function editProduct(p: AdminProduct | null): void {
  state.editing.product = p?.id ?? null;
  input("pr-id").value = p?.id ?? "";
  input("pr-id").readOnly = p !== null;
  $<HTMLSelectElement>("pr-kind").value = p?.kind ?? "goods";
  input("pr-title").value = p?.title ?? "";
  input("pr-description").value = p?.description ?? "";
  input("pr-price").value = p ? String(p.price.amount / 100) : "";
  input("pr-currency").value = p?.price.currency ?? "RUB";
  $<HTMLSelectElement>("pr-event").value = p?.eventId ?? (p ? "" : (state.host?.eventId() ?? ""));
  input("pr-channels").value = (p?.channelIds ?? []).join(", ");
  renderFormHeadings();
  if (p) input("pr-title").focus();
}

async function save(status: string, path: string, body: unknown, after: () => Promise<void>): Promise<void> {
  try {
    await api(path, { method: "PUT", token: token(), json: body });
    say(status, () => t("operator.catalog.saved"), "ok");
    await after();
  } catch (err) {
    say(status, errorText(err), "error");
  }
}

function wireForms(): void {
  $<HTMLFormElement>("cat-ev-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = input("cat-ev-id").value.trim();
    const existing = state.events.find((x) => x.id === state.editing.event);
    const starts = input("cat-ev-starts").value;
    // Everything the form does not show (limits, requireLogin, shards) is sent back as it is.
    const { id: _id, updatedAt: _u, archivedAt: _a, startsAt: _s, ...kept } = existing ?? ({ limits: {} } as Partial<AdminEvent>);
    const body = { ...kept, title: input("cat-ev-title").value.trim(), ...(starts ? { startsAt: new Date(starts).toISOString() } : {}) };
    void save("catalog-status", `/admin/events/${enc(id)}`, body, async () => {
      editEvent(null);
      await state.host?.eventsChanged();
      await loadCatalog();
    });
  });
  $<HTMLFormElement>("ch-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const eventId = state.host?.eventId() ?? "";
    const existing = state.channels.find((x) => x.id === state.editing.channel);
    const { id: _id, eventId: _e, updatedAt: _u, archivedAt: _a, productId: _p, ...kept } = existing ?? ({} as Partial<AdminChannel>);
    const productId = $<HTMLSelectElement>("ch-product").value;
    const body = { ...kept, title: input("ch-title").value.trim(), originUrl: input("ch-origin").value.trim(), paid: input("ch-paid").checked, ...(productId ? { productId } : {}) };
    void save("catalog-status", `/admin/events/${enc(eventId)}/channels/${enc(input("ch-id").value.trim())}`, body, async () => {
      editChannel(null);
      await loadCatalog();
    });
  });
  $<HTMLFormElement>("pr-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const existing = state.products.find((x) => x.id === state.editing.product);
    const { id: _id, updatedAt: _u, archivedAt: _a, eventId: _e, channelIds: _c, ...kept } = existing ?? ({} as Partial<AdminProduct>);
    const eventId = $<HTMLSelectElement>("pr-event").value;
    const channelIds = input("pr-channels").value.split(",").map((s) => s.trim()).filter(Boolean);
    const price = Number(input("pr-price").value.replace(",", "."));
    const body = {
      ...kept,
      kind: $<HTMLSelectElement>("pr-kind").value,
      title: input("pr-title").value.trim(),
      description: input("pr-description").value.trim(),
      price: { amount: Number.isFinite(price) ? Math.round(price * 100) : -1, currency: input("pr-currency").value.trim().toUpperCase() },
      ...(eventId ? { eventId } : {}),
      ...(channelIds.length ? { channelIds } : {}),
    };
    void save("catalog-status", `/admin/products/${enc(input("pr-id").value.trim())}`, body, async () => {
      editProduct(null);
      await loadCatalog();
    });
  });
  $("cat-ev-new").addEventListener("click", () => editEvent(null));
  $("ch-new").addEventListener("click", () => editChannel(null));
  $("pr-new").addEventListener("click", () => editProduct(null));
  $("sessions-refresh").addEventListener("click", () => void loadSessions());
  $("sales-refresh").addEventListener("click", () => void loadSales());
}

const SECTIONS: [string, () => Promise<void>][] = [
  ["catalog-section", loadCatalog],
  ["sessions-section", loadSessions],
  ["sales-section", loadSales],
];

const isOpen = (id: string) => $<HTMLDetailsElement>(id).open;

/** Wires the catalog, sessions and sales sections to the console (once, at start); each loads when opened. */
export function initCatalog(host: CatalogHost): void {
  state.host = host;
  wireForms();
  for (const [id, load] of SECTIONS) $(id).addEventListener("toggle", () => isOpen(id) && void load());
  onLocaleChange(() => {
    renderCatalog();
    renderSessions();
    renderSales();
  });
}

/** The console selected another event (or opened): reload the open sections, which depend on it. */
export async function catalogEventSelected(): Promise<void> {
  state.sessions = null;
  state.sales = null;
  editChannel(null);
  await Promise.all(SECTIONS.filter(([id]) => isOpen(id)).map(([, load]) => load()));
}
