// The operator console at `/operator`: per event, the overload switch, live figures with small charts, stadium nodes, limits.
import { $, api, ApiError, errorText, h, say } from "./api";
import { lineChart, type Sample } from "./chart";

interface EventInfo { id: string; title: string; startsAt?: string }
interface Limits { maxSessions?: number; maxEgressMbps?: number; leaseSeconds?: number }
interface PullZone {
  id: string;
  name?: string;
  healthy?: boolean;
  /** From GET /admin/pull-zones: provisioned nodes that are offline are listed too. */
  registered?: boolean;
  full?: boolean;
  eventIds?: string[];
  capacityMbps?: number;
  activeViewers?: number;
  egressBps?: number;
  cacheHitRatio?: number | null;
  [k: string]: unknown;
}
interface Stats {
  activeSessions: number;
  queued: number;
  egressBps: number;
  egressBpsEdge?: number;
  egressBpsNodes?: number;
  admittedTotal: number;
  originRequests: number;
  cacheHitRatio: number | null;
  pullZones: PullZone[];
  limits?: Limits;
  overload?: boolean;
}

const TOKEN_KEY = "balancer.operatorToken";
const POLL_MS = Number(new URLSearchParams(location.search).get("pollMs")) || 3000;
const WINDOW_MS = 5 * 60_000;

/** The figures the console charts, each a function of the latest stats (and the previous sample for rates). */
const FIGURES: { key: string; title: string; series: number; scale: { max?: number; minMax?: number } }[] = [
  { key: "activeSessions", title: "Active sessions", series: 1, scale: { minMax: 1 } },
  { key: "queued", title: "Waiting in line", series: 1, scale: { minMax: 1 } },
  { key: "egress", title: "Egress: edge / stadium", series: 2, scale: { minMax: 1e6 } },
  { key: "originRequests", title: "Origin requests per second", series: 1, scale: { minMax: 1 } },
  { key: "cacheHitRatio", title: "Cache hit ratio", series: 1, scale: { max: 1 } },
];

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  events: [] as EventInfo[],
  eventId: "",
  overload: null as boolean | null,
  history: new Map<string, Sample[][]>(),
  last: null as { t: number; originRequests: number } | null,
  timer: 0 as ReturnType<typeof setInterval> | number,
  limitsTouched: false,
};

function mbps(bps: number): string {
  return bps < 1e6 ? `${(bps / 1e3).toFixed(0)} kbit/s` : `${(bps / 1e6).toFixed(1)} Mbit/s`;
}

// ---- token ---------------------------------------------------------------------------------------

$<HTMLFormElement>("token-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $<HTMLInputElement>("token").value.trim();
  if (!token) return say("status", "Enter the operator token.", "error");
  state.token = token;
  await loadEvents();
  // A harmless authenticated read tells a wrong token from a right one; a missing endpoint (404) proves nothing.
  try {
    if (state.eventId) await api(`/admin/events/${encodeURIComponent(state.eventId)}/overload`, { token });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      state.token = null;
      return say("status", "That operator token is not accepted. Check it and try again.", "error");
    }
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $<HTMLInputElement>("token").value = "";
  openConsole();
});

$("forget-token").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  clearInterval(state.timer as number);
  $("console").hidden = true;
  $("token-section").hidden = false;
  $("forget-token").hidden = true;
  say("status", "The operator token is forgotten in this tab.");
  $("token").focus();
});

function openConsole(): void {
  $("token-section").hidden = true;
  $("console").hidden = false;
  $("forget-token").hidden = false;
  say("status", "");
  void selectEvent(state.eventId);
}

async function loadEvents(): Promise<void> {
  try {
    state.events = (await api<EventInfo[]>("/events")).body;
  } catch (err) {
    say("status", errorText(err), "error");
  }
  const fromUrl = new URLSearchParams(location.search).get("event");
  state.eventId = state.events.find((e) => e.id === (state.eventId || fromUrl))?.id ?? state.events[0]?.id ?? "";
  $("event-select").replaceChildren(...state.events.map((ev) => h("option", { value: ev.id }, `${ev.title} (${ev.id})`)));
  $<HTMLSelectElement>("event-select").value = state.eventId;
}

$<HTMLSelectElement>("event-select").addEventListener("change", (e) => void selectEvent((e.target as HTMLSelectElement).value));

async function selectEvent(eventId: string): Promise<void> {
  state.eventId = eventId;
  state.history = new Map();
  state.last = null;
  state.limitsTouched = false;
  const ev = state.events.find((x) => x.id === eventId);
  $<HTMLInputElement>("ev-title").value = ev?.title ?? "";
  renderFigures(null);
  clearInterval(state.timer as number);
  if (!eventId) return say("figures-status", "There are no events yet.");
  await Promise.all([loadOverload(), poll()]);
  state.timer = setInterval(() => void poll(), POLL_MS);
}

// ---- overload switch -----------------------------------------------------------------------------

async function loadOverload(): Promise<void> {
  try {
    const { body } = await api<{ enabled: boolean }>(`/admin/events/${encodeURIComponent(state.eventId)}/overload`, { token: state.token });
    renderOverload(body.enabled);
  } catch (err) {
    renderOverload(null, err instanceof ApiError && err.status === 404 ? "The overload switch is not available on this platform." : errorText(err));
  }
}

function renderOverload(enabled: boolean | null, problem?: string): void {
  state.overload = enabled;
  const button = $<HTMLButtonElement>("overload");
  button.disabled = enabled === null;
  button.setAttribute("aria-checked", String(enabled === true));
  button.textContent = enabled === null ? "Overload: not available" : enabled ? "Overload: ON" : "Overload: off";
  button.dataset.state = enabled === null ? "unknown" : enabled ? "on" : "off";
  if (problem) say("overload-state", problem, "error");
  else say("overload-state", enabled ? "Overload is on: every new viewer waits in line." : "Overload is off: viewers are admitted within the limits.");
}

$("overload").addEventListener("click", async () => {
  if (state.overload === null) return;
  const enabled = !state.overload;
  try {
    const { body } = await api<{ enabled: boolean }>(`/admin/events/${encodeURIComponent(state.eventId)}/overload`, {
      method: "PUT",
      token: state.token,
      json: { enabled },
    });
    renderOverload(body.enabled);
  } catch (err) {
    say("overload-state", errorText(err), "error");
  }
});

// ---- live figures --------------------------------------------------------------------------------

async function poll(): Promise<void> {
  const eventId = state.eventId;
  try {
    const [{ body }, provisioned] = await Promise.all([
      api<Stats>(`/admin/events/${encodeURIComponent(eventId)}/stats`, { token: state.token }),
      provisionedNodes(eventId),
    ]);
    if (eventId !== state.eventId) return;
    if (provisioned) body.pullZones = provisioned;
    else if (!body.pullZones?.length) body.pullZones = await publicCacheList(eventId);
    record(body);
    renderFigures(body);
    if (typeof body.overload === "boolean" && body.overload !== state.overload && state.overload !== null) renderOverload(body.overload);
    if (body.limits && !state.limitsTouched) fillLimits(body.limits);
    say("figures-status", "");
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    if (eventId !== state.eventId) return;
    if (err instanceof ApiError && err.status === 401) return say("figures-status", "The operator token is no longer accepted. Forget it and enter it again.", "error");
    say("figures-status", err instanceof ApiError && err.status === 404 ? "Live figures are not available on this platform." : errorText(err), "error");
    renderFigures(null);
  }
}

/** Every node provisioned for the event, offline ones included (null where the platform has no such list). */
async function provisionedNodes(eventId: string): Promise<PullZone[] | null> {
  try {
    const { body } = await api<PullZone[]>("/admin/pull-zones", { token: state.token });
    return Array.isArray(body) ? body.filter((n) => n.eventIds?.includes(eventId)) : null;
  } catch {
    return null;
  }
}

/** A node's state as its badge says it. */
function nodeState(z: PullZone): { label: string; tone: string } {
  if (z.registered === false) return { label: "offline", tone: "locked" };
  if (z.healthy === false) return { label: "unhealthy", tone: "locked" };
  if (z.full) return { label: "full", tone: "unlocked" };
  return { label: "healthy", tone: "free" };
}

/** Egress against capacity: "3.2 Mbit/s of 1000 Mbit/s (0 %)". */
function nodeEgress(z: PullZone): string {
  if (typeof z.egressBps !== "number") return "";
  if (typeof z.capacityMbps !== "number") return mbps(z.egressBps);
  return `${mbps(z.egressBps)} of ${z.capacityMbps} Mbit/s (${Math.round((z.egressBps / (z.capacityMbps * 1e6)) * 100)} %)`;
}

/** The event's healthy nodes from the public list, for platforms whose figures do not list nodes themselves. */
async function publicCacheList(eventId: string): Promise<PullZone[]> {
  try {
    const { body } = await api<{ id: string; name: string; healthy: boolean }[]>(`/events/${encodeURIComponent(eventId)}/caches`);
    return Array.isArray(body) ? body.map((n) => ({ id: n.id, name: n.name, healthy: n.healthy })) : [];
  } catch {
    return [];
  }
}

function push(key: string, i: number, t: number, v: number | undefined): void {
  if (v === undefined || !Number.isFinite(v)) return;
  const series = state.history.get(key) ?? [];
  while (series.length <= i) series.push([]);
  series[i]!.push({ t, v });
  // Keep a little more than the chart shows, then drop the oldest.
  while (series[i]!.length && t - series[i]![0]!.t > WINDOW_MS + POLL_MS) series[i]!.shift();
  state.history.set(key, series);
}

function record(s: Stats): void {
  const t = Date.now();
  push("activeSessions", 0, t, s.activeSessions);
  push("queued", 0, t, s.queued);
  const [edge, nodes] = egressSplit(s);
  push("egress", 0, t, edge);
  push("egress", 1, t, nodes);
  // originRequests is a running total; the chart shows its rate between two polls.
  if (state.last && typeof s.originRequests === "number" && t > state.last.t) {
    push("originRequests", 0, t, Math.max(0, (s.originRequests - state.last.originRequests) / ((t - state.last.t) / 1000)));
  }
  if (typeof s.originRequests === "number") state.last = { t, originRequests: s.originRequests };
  if (typeof s.cacheHitRatio === "number") push("cacheHitRatio", 0, t, s.cacheHitRatio);
}

function egressSplit(s: Stats): [number | undefined, number | undefined] {
  const nodes = s.egressBpsNodes ?? (s.pullZones?.some((z) => typeof z.egressBps === "number") ? s.pullZones.reduce((a, z) => a + (z.egressBps ?? 0), 0) : undefined);
  const edge = s.egressBpsEdge ?? (typeof s.egressBps === "number" ? s.egressBps - (nodes ?? 0) : undefined);
  return [edge, nodes];
}

function currentValue(key: string, s: Stats): string {
  switch (key) {
    case "activeSessions":
      return String(s.activeSessions ?? "–");
    case "queued":
      return String(s.queued ?? "–");
    case "egress": {
      const [edge, nodes] = egressSplit(s);
      return `${edge === undefined ? "–" : mbps(edge)} / ${nodes === undefined ? "not reported" : mbps(nodes)}`;
    }
    case "originRequests": {
      const series = state.history.get("originRequests")?.[0];
      const rate = series?.[series.length - 1]?.v;
      return `${rate === undefined ? "–" : rate.toFixed(2)} (${s.originRequests ?? "–"} in total)`;
    }
    case "cacheHitRatio":
      return typeof s.cacheHitRatio === "number" ? `${(s.cacheHitRatio * 100).toFixed(1)} %` : "not reported yet";
  }
  return "–";
}

function renderFigures(s: Stats | null): void {
  const now = Date.now();
  $("figures").replaceChildren(
    ...FIGURES.map((f) => {
      const value = s ? currentValue(f.key, s) : "not available";
      const series = state.history.get(f.key) ?? [];
      const raw = f.key === "activeSessions" || f.key === "queued" ? String(s?.[f.key] ?? "") : "";
      return h(
        "figure",
        { class: "figure", id: `fig-${f.key}`, "data-value": raw },
        h("figcaption", {}, f.title),
        h("div", { class: "value" }, value),
        lineChart(series, WINDOW_MS, now, `${f.title} over the last 5 minutes; now ${value}`, f.scale),
        f.series === 2 ? h("div", { class: "legend" }, h("span", { class: "k0" }, "edge"), " ", h("span", { class: "k1" }, "stadium")) : null,
      );
    }),
  );
  const nodes = $("nodes");
  if (!s) return nodes.replaceChildren(h("li", { class: "hint" }, "not available"));
  nodes.replaceChildren(
    ...(s.pullZones?.length
      ? s.pullZones.map((z) =>
          h(
            "li",
            { class: "node", "data-node-id": z.id, "data-state": nodeState(z).label },
            h("span", { class: `badge ${nodeState(z).tone}` }, nodeState(z).label),
            " ",
            h("strong", {}, z.name ?? z.id),
            " ",
            h(
              "span",
              { class: "hint" },
              [
                typeof z.activeViewers === "number" ? `${z.activeViewers} viewer${z.activeViewers === 1 ? "" : "s"}` : "",
                nodeEgress(z),
                typeof z.cacheHitRatio === "number" ? `hit ratio ${(z.cacheHitRatio * 100).toFixed(0)} %` : "",
              ]
                .filter(Boolean)
                .join(" · "),
            ),
          ),
        )
      : [h("li", { class: "hint" }, "No stadium node is provisioned for this event.")]),
  );
}

// ---- limits --------------------------------------------------------------------------------------

function fillLimits(l: Limits): void {
  $<HTMLInputElement>("max-sessions").value = l.maxSessions === undefined ? "" : String(l.maxSessions);
  $<HTMLInputElement>("max-egress").value = l.maxEgressMbps === undefined ? "" : String(l.maxEgressMbps);
  $<HTMLInputElement>("lease-seconds").value = l.leaseSeconds === undefined ? "" : String(l.leaseSeconds);
}

for (const id of ["max-sessions", "max-egress", "lease-seconds", "ev-title"]) $(id).addEventListener("input", () => (state.limitsTouched = true));

$<HTMLFormElement>("limits-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const num = (id: string) => {
    const v = $<HTMLInputElement>(id).value.trim();
    return v === "" ? undefined : Number(v);
  };
  const limits: Limits = {};
  const maxSessions = num("max-sessions");
  const maxEgressMbps = num("max-egress");
  const leaseSeconds = num("lease-seconds");
  if (maxSessions !== undefined) limits.maxSessions = maxSessions;
  if (maxEgressMbps !== undefined) limits.maxEgressMbps = maxEgressMbps;
  if (leaseSeconds !== undefined) limits.leaseSeconds = leaseSeconds;
  const ev = state.events.find((x) => x.id === state.eventId);
  const title = $<HTMLInputElement>("ev-title").value.trim();
  try {
    await api(`/admin/events/${encodeURIComponent(state.eventId)}`, {
      method: "PUT",
      token: state.token,
      json: { title, ...(ev?.startsAt ? { startsAt: ev.startsAt } : {}), limits },
    });
    if (ev) ev.title = title;
    state.limitsTouched = false;
    say("limits-status", "The limits are saved; they apply to the next viewers who ask for access.", "ok");
  } catch (err) {
    say("limits-status", errorText(err), "error");
  }
});

// ---- start ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (state.token) {
    await loadEvents();
    openConsole();
  } else {
    $("token").focus();
  }
  document.body.dataset.ready = "true";
}
void main();
