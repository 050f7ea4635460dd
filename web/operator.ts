// The operator console at `/operator`: per event, the overload switch, live figures with small charts, stadium nodes, limits;
// in Russian or English (web/i18n).
import { $, api, ApiError, h } from "./api";
import { chartSpanMs, chartTop, lineChart, type Sample, type Scale } from "./chart";
import { errorText, formatBitrate, formatNumber, formatPercent, formatTime, initI18n, onLocaleChange, say, t, type Text } from "./i18n";
import type { PlainKey } from "./i18n/core";
import { initKiosks } from "./operator-kiosks";
import { catalogEventSelected, initCatalog } from "./operator-catalog";

interface EventInfo { id: string; title: string; startsAt?: string; archivedAt?: string }
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
/** Which of a channel's origins serves it (stats `channels[].origin`). */
interface ChannelOrigin {
  serving: string;
  servingIndex: number;
  switchedAt: string | null;
  switches: { at: string; from: string; to: string; reason: "failed" | "stale" | "recovered" }[];
  failing: string[];
}
interface Stats {
  channels?: { id: string; origin?: ChannelOrigin }[];
  activeSessions: number;
  queued: number;
  egressBps: number;
  egressBpsEdge?: number;
  egressBpsNodes?: number;
  admittedTotal: number;
  originRequests: number;
  /** All tiers: viewer requests answered without asking the origin ÷ all (docs/web.md, "What the figures mean"). */
  cacheHitRatio: number | null;
  /** The requests behind cacheHitRatio, by the tier that answered them. */
  requestsByTier?: Record<Tier, number>;
  pullZones: PullZone[];
  limits?: Limits;
  overload?: boolean;
}

const TOKEN_KEY = "balancer.operatorToken";
const POLL_MS = Number(new URLSearchParams(location.search).get("pollMs")) || 3000;
const WINDOW_MS = 5 * 60_000;

/** The figures the console charts, each a function of the latest stats (and the previous sample for rates). */
/** Each chart says its unit, its time span and the value at its top (`top` formats a value in that unit). */
const FIGURES: { key: string; title: PlainKey; series: number; scale: Scale; unit: PlainKey; top: (v: number) => string }[] = [
  { key: "activeSessions", title: "operator.figures.activeSessions", series: 1, scale: { minMax: 1 }, unit: "operator.unit.sessions", top: (v) => formatNumber(v, { maximumFractionDigits: 0 }) },
  { key: "queued", title: "operator.figures.queued", series: 1, scale: { minMax: 1 }, unit: "operator.unit.viewers", top: (v) => formatNumber(v, { maximumFractionDigits: 0 }) },
  { key: "egress", title: "operator.figures.egress", series: 2, scale: { minMax: 1e6 }, unit: "operator.unit.mbps", top: (v) => formatNumber(v / 1e6, { maximumFractionDigits: 1 }) },
  { key: "originRequests", title: "operator.figures.originRequests", series: 1, scale: { minMax: 1 }, unit: "operator.unit.requestsPerSecond", top: (v) => formatNumber(v, { maximumFractionDigits: 2 }) },
  { key: "cacheHitRatio", title: "operator.figures.cacheHitRatio", series: 1, scale: { max: 1 }, unit: "operator.unit.percent", top: (v) => formatNumber(v * 100, { maximumFractionDigits: 0 }) },
];
/** The tiers a request can be answered by, nearest the viewer first (durable-objects/event-gate/served.ts). */
const TIERS = ["node", "memory", "cacheApi", "shield", "origin"] as const;
type Tier = (typeof TIERS)[number];

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  events: [] as EventInfo[],
  eventId: "",
  overload: null as boolean | null,
  /** What the overload line says when the switch could not be read. */
  overloadProblem: undefined as Text | undefined,
  /** The latest figures (null: none yet, or they failed), redrawn when the language changes. */
  stats: null as Stats | null,
  updatedAt: null as Date | null,
  history: new Map<string, Sample[][]>(),
  last: null as { t: number; originRequests: number } | null,
  timer: 0 as ReturnType<typeof setInterval> | number,
  limitsTouched: false,
  /** Channel titles of the selected event, by id. */
  channelTitles: new Map<string, string>(),
};

initI18n();
initKiosks(() => state.token);

// ---- token ---------------------------------------------------------------------------------------

$<HTMLFormElement>("token-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $<HTMLInputElement>("token").value.trim();
  if (!token) return say("status", () => t("operator.token.missing"), "error");
  state.token = token;
  await loadEvents();
  // A harmless authenticated read tells a wrong token from a right one; a missing endpoint (404) proves nothing.
  try {
    if (state.eventId) await api(`/admin/events/${encodeURIComponent(state.eventId)}/overload`, { token });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      state.token = null;
      return say("status", () => t("operator.token.rejected"), "error");
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
  say("status", () => t("operator.token.forgotten"));
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
    // The operator's list keeps archived events (they still have figures and sales); without a valid token, the public one.
    state.events = await api<EventInfo[]>("/admin/events", { token: state.token })
      .then((r) => r.body)
      .catch(async () => (await api<EventInfo[]>("/events")).body);
  } catch (err) {
    say("status", errorText(err), "error");
  }
  const fromUrl = new URLSearchParams(location.search).get("event");
  state.eventId = state.events.find((e) => e.id === (state.eventId || fromUrl))?.id ?? state.events.find((e) => !e.archivedAt)?.id ?? state.events[0]?.id ?? "";
  renderEventOptions();
}

function renderEventOptions(): void {
  $("event-select").replaceChildren(
    ...state.events.map((ev) => h("option", { value: ev.id }, ev.archivedAt ? t("operator.event.archivedOption", { title: ev.title, id: ev.id }) : `${ev.title} (${ev.id})`)),
  );
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
  state.stats = null;
  state.updatedAt = null;
  state.channelTitles = new Map();
  renderFigures();
  renderUpdated();
  clearInterval(state.timer as number);
  void catalogEventSelected();
  if (!eventId) return say("figures-status", () => t("operator.event.none"));
  await Promise.all([loadOverload(), poll()]);
  state.timer = setInterval(() => void poll(), POLL_MS);
}

// ---- overload switch -----------------------------------------------------------------------------

async function loadOverload(): Promise<void> {
  try {
    const { body } = await api<{ enabled: boolean }>(`/admin/events/${encodeURIComponent(state.eventId)}/overload`, { token: state.token });
    renderOverload(body.enabled);
  } catch (err) {
    renderOverload(null, err instanceof ApiError && err.status === 404 ? () => t("operator.overload.unavailable") : errorText(err));
  }
}

function renderOverload(enabled: boolean | null, problem?: Text): void {
  state.overload = enabled;
  state.overloadProblem = problem;
  const button = $<HTMLButtonElement>("overload");
  button.disabled = enabled === null;
  button.setAttribute("aria-checked", String(enabled === true));
  button.dataset.state = enabled === null ? "unknown" : enabled ? "on" : "off";
  if (problem) say("overload-state", problem, "error");
  else say("overload-state", () => t(enabled ? "operator.overload.on" : "operator.overload.off"));
  renderOverloadButton();
}

function renderOverloadButton(): void {
  const enabled = state.overload;
  $("overload").textContent = t(enabled === null ? "operator.overload.notAvailable" : enabled ? "operator.overload.onButton" : "operator.overload.offButton");
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
      state.channelTitles.size ? null : channelTitles(eventId),
    ]);
    if (eventId !== state.eventId) return;
    if (provisioned) body.pullZones = provisioned;
    else if (!body.pullZones?.length) body.pullZones = await publicCacheList(eventId);
    record(body);
    state.stats = body;
    renderFigures();
    if (typeof body.overload === "boolean" && body.overload !== state.overload && state.overload !== null) renderOverload(body.overload);
    if (body.limits && !state.limitsTouched) fillLimits(body.limits);
    say("figures-status", "");
    state.updatedAt = new Date();
    renderUpdated();
  } catch (err) {
    if (eventId !== state.eventId) return;
    if (err instanceof ApiError && err.status === 401) return say("figures-status", () => t("operator.token.expired"), "error");
    say("figures-status", err instanceof ApiError && err.status === 404 ? () => t("operator.figures.unavailable") : errorText(err), "error");
    state.stats = null;
    renderFigures();
  }
}

function renderUpdated(): void {
  $("updated").textContent = state.updatedAt ? t("operator.figures.updated", { time: formatTime(state.updatedAt) }) : "";
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
function nodeState(z: PullZone): { state: "offline" | "unhealthy" | "full" | "healthy"; tone: string } {
  if (z.registered === false) return { state: "offline", tone: "locked" };
  if (z.healthy === false) return { state: "unhealthy", tone: "locked" };
  if (z.full) return { state: "full", tone: "unlocked" };
  return { state: "healthy", tone: "free" };
}

/** Egress against capacity: "3.2 Mbit/s of 1,000 Mbit/s (0%)". */
function nodeEgress(z: PullZone): string {
  if (typeof z.egressBps !== "number") return "";
  if (typeof z.capacityMbps !== "number") return formatBitrate(z.egressBps);
  return t("operator.node.egressOf", {
    egress: formatBitrate(z.egressBps),
    capacity: t("unit.mbps", { value: formatNumber(z.capacityMbps) }),
    percent: formatPercent(z.egressBps / (z.capacityMbps * 1e6), 0),
  });
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

async function channelTitles(eventId: string): Promise<void> {
  try {
    const { body } = await api<{ id: string; title: string }[]>(`/events/${encodeURIComponent(eventId)}/channels`);
    if (eventId === state.eventId) state.channelTitles = new Map(body.map((c) => [c.id, c.title]));
  } catch {
    // Titles are a nicety: the list names channels by id meanwhile.
  }
}

/** The host (and port) of an origin URL: what tells an operator's two encoders apart. */
function originHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** One line per channel: the origin serving it, since when and why, and origins that fail. */
function renderOrigins(s: Stats | null): void {
  const list = $("origins");
  const channels = (s?.channels ?? []).filter((c) => c.origin);
  if (!s || channels.length === 0) return list.replaceChildren(h("li", { class: "hint" }, t(s ? "operator.origins.none" : "operator.figures.notAvailable")));
  list.replaceChildren(
    ...channels.map((c) => {
      const o = c.origin!;
      const last = o.switches.at(-1);
      const onBackup = o.servingIndex > 0;
      return h(
        "li",
        { class: "node", "data-channel-id": c.id, "data-serving-index": String(o.servingIndex) },
        h("span", { class: `badge ${onBackup ? "unlocked" : o.failing.length ? "locked" : "free"}` }, onBackup ? t("operator.origins.backup", { n: o.servingIndex }) : t("operator.origins.primary")),
        " ",
        h("strong", {}, state.channelTitles.get(c.id) ?? c.id),
        " ",
        h(
          "span",
          { class: "hint" },
          [
            t("operator.origins.serving", { host: originHost(o.serving) }),
            last && o.switchedAt ? t(`operator.origins.switched.${last.reason}`, { time: formatTime(new Date(o.switchedAt)) }) : "",
            o.failing.length ? t("operator.origins.failing", { hosts: o.failing.map(originHost).join(", ") }) : "",
          ]
            .filter(Boolean)
            .join(" · "),
        ),
      );
    }),
  );
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
      return `${edge === undefined ? "–" : formatBitrate(edge)} / ${nodes === undefined ? t("operator.figures.notReported") : formatBitrate(nodes)}`;
    }
    case "originRequests": {
      const series = state.history.get("originRequests")?.[0];
      const rate = series?.[series.length - 1]?.v;
      return t("operator.figures.originTotal", {
        rate: rate === undefined ? "–" : formatNumber(rate, { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
        total: s.originRequests ?? "–",
      });
    }
    case "cacheHitRatio":
      return typeof s.cacheHitRatio === "number" ? formatPercent(s.cacheHitRatio) : t("operator.figures.notReportedYet");
  }
  return "–";
}

/** "stadium 40.0% · edge memory 55.0% · …": each tier's share of the requests behind the hit ratio. */
function tierShares(s: Stats | null): string | null {
  const c = s?.requestsByTier;
  if (!c) return null;
  const all = TIERS.reduce((n, k) => n + (c[k] ?? 0), 0);
  if (all <= 0) return null;
  return TIERS.map((k) => t("operator.tiers.share", { tier: t(`operator.tiers.${k}`), percent: formatPercent((c[k] ?? 0) / all) })).join(" · ");
}

/** "Mbit/s · last 45 s · top 12.3": what a chart's axes are. */
function axisText(f: (typeof FIGURES)[number], series: Sample[][], now: number): string {
  const spanS = Math.round(chartSpanMs(series, WINDOW_MS, now) / 1000);
  const span = spanS < 120 ? t("operator.figures.spanSeconds", { count: spanS }) : t("operator.figures.spanMinutes", { count: Math.round(spanS / 60) });
  return t("operator.figures.axis", { unit: t(f.unit), span, top: f.top(chartTop(series, WINDOW_MS, now, f.scale)) });
}

function renderFigures(): void {
  const s = state.stats;
  const now = Date.now();
  $("figures").replaceChildren(
    ...FIGURES.map((f) => {
      const value = s ? currentValue(f.key, s) : t("operator.figures.notAvailable");
      const title = t(f.title);
      const series = state.history.get(f.key) ?? [];
      const raw = f.key === "activeSessions" || f.key === "queued" ? String(s?.[f.key] ?? "") : "";
      const axis = axisText(f, series, now);
      const shares = f.key === "cacheHitRatio" ? tierShares(s) : null;
      return h(
        "figure",
        { class: "figure", id: `fig-${f.key}`, "data-value": raw },
        h("figcaption", {}, title),
        h("div", { class: "value" }, value),
        shares ? h("div", { class: "tiers" }, shares) : null,
        lineChart(series, WINDOW_MS, now, t("operator.figures.chartLabel", { title, axis, value }), f.scale),
        h("div", { class: "axis" }, axis),
        f.series === 2
          ? h("div", { class: "legend" }, h("span", { class: "k0" }, t("operator.figures.legendEdge")), " ", h("span", { class: "k1" }, t("operator.figures.legendStadium")))
          : null,
      );
    }),
  );
  renderOrigins(s);
  const nodes = $("nodes");
  if (!s) return nodes.replaceChildren(h("li", { class: "hint" }, t("operator.figures.notAvailable")));
  nodes.replaceChildren(
    ...(s.pullZones?.length
      ? s.pullZones.map((z) =>
          h(
            "li",
            { class: "node", "data-node-id": z.id, "data-state": nodeState(z).state },
            h("span", { class: `badge ${nodeState(z).tone}` }, t(`operator.node.${nodeState(z).state}`)),
            " ",
            h("strong", {}, z.name ?? z.id),
            " ",
            h(
              "span",
              { class: "hint" },
              [
                typeof z.activeViewers === "number" ? t("operator.node.viewers", { count: z.activeViewers }) : "",
                nodeEgress(z),
                typeof z.cacheHitRatio === "number" ? t("operator.node.hitRatio", { percent: formatPercent(z.cacheHitRatio, 0) }) : "",
              ]
                .filter(Boolean)
                .join(" · "),
            ),
          ),
        )
      : [h("li", { class: "hint" }, t("operator.nodes.none"))]),
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
    say("limits-status", () => t("operator.limits.saved"), "ok");
  } catch (err) {
    say("limits-status", errorText(err), "error");
  }
});

// ---- start ---------------------------------------------------------------------------------------

onLocaleChange(() => {
  renderEventOptions();
  renderOverloadButton();
  renderFigures();
  renderUpdated();
});

initCatalog({
  token: () => state.token,
  eventId: () => state.eventId,
  eventsChanged: async () => {
    await loadEvents();
    const ev = state.events.find((x) => x.id === state.eventId);
    if (ev && !state.limitsTouched) $<HTMLInputElement>("ev-title").value = ev.title;
  },
});

async function main(): Promise<void> {
  renderOverloadButton();
  $("overload").textContent = t("operator.overload.unknown");
  if (state.token) {
    await loadEvents();
    openConsole();
  } else {
    $("token").focus();
  }
  document.body.dataset.ready = "true";
}
void main();
