// The viewer page at `/`: sign in, channels with free/locked badges, passes and goods, hls.js playback,
// the waiting line when the event is full, and the stadium-cache indicator; in Russian or English (web/i18n).
import type HlsType from "hls.js";
import { $, api, ApiError, h, idempotencyKey } from "./api";
import { probeCaches, type CacheProbe } from "./caches";
import { groupedCode, qrImage } from "./qr";
import { errorText, formatDateTime, formatDuration, formatMoney, initI18n, onLocaleChange, say, t, tNodes, type Text } from "./i18n";

// hls.js is loaded by its own <script> tag (public/js/hls.min.js, copied from node_modules at build time).
declare const Hls: typeof HlsType;

interface User { id: string; login: string }
interface EventInfo { id: string; title: string; startsAt?: string }
interface Channel { id: string; title: string; paid: boolean; productId?: string; locked: boolean }
interface Product { id: string; kind: "channel_pass" | "goods"; title: string; description: string; price: { amount: number; currency: string }; channelIds?: string[] }
interface Purchase { id: string; productId: string; status: string; createdAt: string; code?: string; redeemedAt?: string }
type Access =
  | { status: "granted"; sessionId: string; playbackUrl: string; expiresAt: string; leaseSeconds: number }
  | { status: "queued"; ticket: string; position: number; estimatedWaitSeconds: number; retryAfterSeconds: number };

type Queued = Extract<Access, { status: "queued" }>;
/** Where the picture comes from, kept as data so the line can be said again in another language. */
type Pathway = { kind: "none" } | { kind: "starting" } | { kind: "native" } | { kind: "stadium"; name: string } | { kind: "edge" } | { kind: "other"; pathwayId?: string; host: string };

const TOKEN_KEY = "balancer.viewerToken";
const CACHE_RECHECK_MS = 10_000;

const state = {
  token: localStorage.getItem(TOKEN_KEY) as string | null,
  user: null as User | null,
  eventId: "",
  channels: [] as Channel[],
  products: [] as Product[],
  /** The viewer's purchases, or the failure that stopped listing them (null: signed out). */
  purchases: null as Purchase[] | { error: Text } | null,
  /** The place in line while waiting; `left` is the countdown to the next try. */
  queue: null as { channel: Channel; q: Queued; left: number } | null,
  pathway: { kind: "none" } as Pathway,
  cachesChecked: false,
  caches: { available: false, nodes: [], reachable: null } as CacheProbe,
  /** The channel the viewer asked for (playing, queued or starting). */
  wanted: null as Channel | null,
  /** The granted session; `cacheId` is the node last reported for it (PUT /sessions/{id}). */
  session: null as { id: string; playbackToken: string; cacheId: string | null } | null,
  hls: null as HlsType | null,
  queueTimer: 0 as number | ReturnType<typeof setInterval>,
  cacheTimer: 0 as number | ReturnType<typeof setInterval>,
  /** Bumped on every start/stop so late answers of an abandoned attempt are ignored. */
  attempt: 0,
};

initI18n();
const video = $<HTMLVideoElement>("video");
/** The player's recent events (errors, fragments), kept for bug reports and the browser tests. */
const playerLog: { t: number; type: string; detail: string; fatal?: boolean }[] = [];
(window as unknown as { playerLog: typeof playerLog }).playerLog = playerLog;
function logPlayer(type: string, detail: string, fatal?: boolean): void {
  playerLog.push({ t: Date.now(), type, detail, ...(fatal !== undefined ? { fatal } : {}) });
  if (playerLog.length > 200) playerLog.shift();
}

// ---- account -------------------------------------------------------------------------------------

async function restoreSession(): Promise<void> {
  if (!state.token) return renderAccount();
  try {
    const { body } = await api<{ user: User }>("/auth/session", { token: state.token });
    state.user = body.user;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) setToken(null);
  }
  renderAccount();
}

function setToken(token: string | null): void {
  state.token = token;
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else {
    localStorage.removeItem(TOKEN_KEY);
    state.user = null;
  }
}

function renderAccount(): void {
  const signedIn = Boolean(state.user);
  $("account-bar").hidden = !signedIn;
  $("auth-section").hidden = signedIn;
  $("signed-in-as").textContent = state.user ? t("viewer.signedInAs", { login: state.user.login }) : "";
}

$<HTMLFormElement>("auth-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const action = ((e as SubmitEvent).submitter as HTMLButtonElement | null)?.value === "register" ? "register" : "login";
  const login = $<HTMLInputElement>("login").value.trim();
  const password = $<HTMLInputElement>("password").value;
  if (!login || !password) return say("auth-status", () => t("viewer.auth.missing"), "error");
  say("auth-status", () => t(action === "register" ? "viewer.auth.registering" : "viewer.auth.signingIn"));
  try {
    const { body } = await api<{ token: string; user: User }>(`/auth/${action}`, { method: "POST", json: { login, password } });
    setToken(body.token);
    state.user = body.user;
    $<HTMLInputElement>("password").value = "";
    say("auth-status", "");
    renderAccount();
    const who = body.user.login;
    say("status", () => t(action === "register" ? "viewer.auth.welcomeNew" : "viewer.auth.welcomeBack", { login: who }), "ok");
    await Promise.all([loadChannels(), loadPurchases()]);
    $("logout").focus();
  } catch (err) {
    say("auth-status", errorText(err), "error");
  }
});

$("logout").addEventListener("click", async () => {
  const token = state.token;
  stop();
  setToken(null);
  renderAccount();
  if (token) await api("/auth/logout", { method: "POST", token }).catch(() => undefined);
  say("status", () => t("viewer.auth.signedOut"));
  await Promise.all([loadChannels(), loadPurchases()]);
  $<HTMLInputElement>("login").focus();
});

// ---- catalog -------------------------------------------------------------------------------------

async function loadEvents(): Promise<void> {
  const select = $<HTMLSelectElement>("event-select");
  try {
    const { body } = await api<EventInfo[]>("/events");
    select.replaceChildren(...body.map((ev) => h("option", { value: ev.id }, ev.title)));
    const fromUrl = new URLSearchParams(location.search).get("event");
    state.eventId = body.find((ev) => ev.id === fromUrl)?.id ?? body.find((ev) => ev.id === "demo")?.id ?? body[0]?.id ?? "";
    select.value = state.eventId;
    if (!body.length) say("status", () => t("viewer.channels.noEvents"));
  } catch (err) {
    say("status", errorText(err), "error");
  }
}

$<HTMLSelectElement>("event-select").addEventListener("change", async (e) => {
  stop();
  state.eventId = (e.target as HTMLSelectElement).value;
  await loadChannels();
  void refreshCaches();
});

async function loadChannels(): Promise<void> {
  if (!state.eventId) {
    state.channels = [];
    return renderChannels();
  }
  try {
    const { body } = await api<Channel[]>(`/events/${encodeURIComponent(state.eventId)}/channels`, { token: state.token });
    state.channels = body;
  } catch (err) {
    state.channels = [];
    say("status", errorText(err), "error");
  }
  renderChannels();
}

function renderChannels(): void {
  const list = $("channels");
  list.replaceChildren(
    ...state.channels.map((ch) => {
      const badge = !ch.paid
        ? [t("viewer.badge.free"), "free"]
        : ch.locked
          ? [t("viewer.badge.locked"), "locked"]
          : [t("viewer.badge.unlocked"), "unlocked"];
      const product = state.products.find((p) => p.id === ch.productId);
      const button = ch.locked
        ? h("button", { type: "button", class: "secondary", "aria-label": t("viewer.channel.unlockLabel", { channel: ch.title }) }, t("viewer.channel.unlock"))
        : h("button", { type: "button", "aria-label": t("viewer.channel.watchLabel", { channel: ch.title }) }, t("viewer.channel.watch"));
      button.addEventListener("click", () => (ch.locked ? offerProduct(ch, product) : void play(ch)));
      return h(
        "li",
        { "data-channel-id": ch.id, class: "channel" },
        h("span", { class: "title" }, ch.title),
        h("span", { class: `badge ${badge[1]}` }, badge[0]!),
        button,
      );
    }),
  );
  if (!state.channels.length && state.eventId) list.append(h("li", { class: "hint" }, t("viewer.channels.none")));
}

function offerProduct(ch: Channel, product: Product | undefined): void {
  say("shop-status", () => {
    const needs = product ? t("viewer.offer.product", { channel: ch.title, product: product.title, price: formatMoney(product.price) }) : t("viewer.offer.anyPass", { channel: ch.title });
    return `${needs} ${state.user ? t("viewer.offer.buyBelow") : t("viewer.offer.signInFirst")}`;
  });
  const target = product && document.querySelector<HTMLButtonElement>(`[data-product-id="${CSS.escape(product.id)}"] button`);
  (target ?? $("shop-title")).scrollIntoView({ block: "center" });
  target?.focus();
}

async function loadProducts(): Promise<void> {
  try {
    const { body } = await api<Product[]>("/products");
    state.products = body;
  } catch (err) {
    say("shop-status", errorText(err), "error");
  }
  renderProducts();
}

function renderProducts(): void {
  $("products").replaceChildren(
    ...state.products.map((p) => {
      const button = h("button", { type: "button", "aria-label": t("viewer.shop.buyLabel", { product: p.title, price: formatMoney(p.price) }) }, t("viewer.shop.buy"));
      button.addEventListener("click", () => void buy(p, button));
      return h(
        "li",
        { "data-product-id": p.id, class: "product" },
        h("div", {}, h("strong", {}, p.title), " ", h("span", { class: "price" }, formatMoney(p.price))),
        h("p", { class: "hint" }, p.description),
        button,
      );
    }),
  );
}

async function buy(product: Product, button: HTMLButtonElement): Promise<void> {
  if (!state.token) {
    say("shop-status", () => t("viewer.shop.signInToBuy", { product: product.title }), "error");
    $<HTMLInputElement>("login").focus();
    return;
  }
  const paymentMethod = $<HTMLSelectElement>("payment-method").value;
  button.disabled = true;
  say("shop-status", () => t("viewer.shop.paying", { product: product.title }));
  try {
    await api("/purchases", {
      method: "POST",
      token: state.token,
      headers: { "idempotency-key": idempotencyKey() },
      json: { productId: product.id, ...(paymentMethod ? { paymentMethod } : {}) },
    });
    const unlocks = product.kind === "channel_pass" && Boolean(product.channelIds?.length);
    say("shop-status", () => t("viewer.shop.bought", { product: product.title }) + (unlocks ? " " + t("viewer.shop.unlocked") : ""), "ok");
    await Promise.all([loadChannels(), loadPurchases()]);
  } catch (err) {
    if (err instanceof ApiError && err.code === "unauthenticated") {
      setToken(null);
      renderAccount();
    }
    say("shop-status", errorText(err), "error");
  } finally {
    button.disabled = false;
  }
}

async function loadPurchases(): Promise<void> {
  if (!state.token) state.purchases = null;
  else {
    try {
      state.purchases = (await api<Purchase[]>("/purchases", { token: state.token })).body;
    } catch (err) {
      state.purchases = { error: errorText(err) };
    }
  }
  renderPurchases();
}

function renderPurchases(): void {
  const list = $("purchases");
  const bought = state.purchases;
  if (!bought) return list.replaceChildren(h("li", { class: "hint" }, t("viewer.purchases.signIn")));
  if (!Array.isArray(bought)) return list.replaceChildren(h("li", { class: "hint" }, typeof bought.error === "function" ? bought.error() : bought.error));
  const title = (id: string) => state.products.find((p) => p.id === id)?.title ?? id;
  list.replaceChildren(
    ...(bought.length
      ? bought.map((p) => h("li", {}, t("viewer.purchases.item", { product: title(p.productId), date: formatDateTime(new Date(p.createdAt)) }), p.code ? goodsCode(p.code, p.redeemedAt) : null))
      : [h("li", { class: "hint" }, t("viewer.purchases.none"))]),
  );
}

/** A goods purchase's redemption code, as text and as a QR code for the kiosk's scanner; or when it was redeemed. */
function goodsCode(code: string, redeemedAt: string | undefined): HTMLElement {
  const text = groupedCode(code);
  return h(
    "div",
    { class: "goods-code" },
    h("p", {}, t("viewer.purchases.code"), " ", h("strong", { class: "code", "data-code": code }, text)),
    redeemedAt
      ? h("p", { class: "hint" }, t("viewer.purchases.redeemed", { date: formatDateTime(new Date(redeemedAt)) }))
      : h("div", {}, qrImage(code, t("viewer.purchases.qrAlt", { code: text })), h("p", { class: "hint" }, t("viewer.purchases.codeHint"))),
  );
}

// ---- playback and the waiting line ---------------------------------------------------------------

async function play(ch: Channel): Promise<void> {
  stop();
  state.wanted = ch;
  const attempt = ++state.attempt;
  $<HTMLButtonElement>("stop").disabled = false;
  say("now-playing", () => t("viewer.player.asking", { channel: ch.title }));
  $("player-section").scrollIntoView({ block: "start" });
  await refreshCaches();
  if (attempt !== state.attempt) return;
  await requestAccess(ch, attempt, undefined);
}

async function requestAccess(ch: Channel, attempt: number, ticket: string | undefined): Promise<void> {
  const cacheId = state.caches.reachable?.id;
  try {
    const { body, headers } = await api<Access>(
      `/events/${encodeURIComponent(state.eventId)}/channels/${encodeURIComponent(ch.id)}/access`,
      { method: "POST", token: state.token, json: { ...(ticket ? { ticket } : {}), ...(cacheId ? { cacheId } : {}) } },
    );
    if (attempt !== state.attempt) return;
    if (body.status === "queued") {
      const retryAfter = Number(headers.get("retry-after")) || body.retryAfterSeconds || 5;
      return showQueue(ch, attempt, body, retryAfter);
    }
    hideQueue();
    const playbackToken = body.playbackUrl.split("/")[2] ?? "";
    state.session = { id: body.sessionId, playbackToken, cacheId: null };
    // Tell the platform which stadium node this session reached before the first steering manifest is asked for.
    await reportCache();
    if (attempt !== state.attempt) return;
    startPlayer(ch, body);
  } catch (err) {
    if (attempt !== state.attempt) return;
    if (err instanceof ApiError && (err.status === 429 || err.status === 503)) {
      // The platform is busy in another way: keep the place and ask again a little later.
      const retry = err.retryAfterSeconds ?? 5;
      const why = errorText(err);
      say("now-playing", () => t("viewer.player.retrying", { error: why(), seconds: retry }), "error");
      state.queueTimer = setTimeout(() => void requestAccess(ch, attempt, ticket), retry * 1000);
      return;
    }
    hideQueue();
    $<HTMLButtonElement>("stop").disabled = true;
    say("now-playing", errorText(err), "error");
    if (err instanceof ApiError && err.code === "entitlement_required") offerProduct(ch, state.products.find((p) => p.id === err.body.productId));
    if (err instanceof ApiError && err.code === "unauthenticated") $<HTMLInputElement>("login").focus();
  }
}

function showQueue(ch: Channel, attempt: number, q: Queued, retryAfter: number): void {
  $("waiting").hidden = false;
  video.hidden = true;
  const queue = { channel: ch, q, left: Math.max(1, Math.ceil(retryAfter)) };
  state.queue = queue;
  renderQueue();
  say("now-playing", () => t("viewer.queue.status", { channel: ch.title, position: q.position }));
  clearInterval(state.queueTimer as number);
  state.queueTimer = setInterval(() => {
    queue.left -= 1;
    $("queue-countdown").textContent = String(Math.max(0, queue.left));
    if (queue.left <= 0) {
      clearInterval(state.queueTimer as number);
      void requestAccess(ch, attempt, q.ticket);
    }
  }, 1000);
}

/** The place in line, the expected wait ("about 2 minutes") and the countdown, each in its own element for the tests. */
function renderQueue(): void {
  const queue = state.queue;
  if (!queue) return;
  $("queue-position-line").replaceChildren(...tNodes("viewer.queue.position", { position: h("strong", { id: "queue-position" }, String(queue.q.position)) }));
  $("queue-wait-line").replaceChildren(
    ...tNodes("viewer.queue.wait", {
      wait: h("span", { id: "queue-wait" }, formatDuration(queue.q.estimatedWaitSeconds)),
      seconds: h("strong", { id: "queue-countdown" }, String(Math.max(0, queue.left))),
    }),
  );
}

function hideQueue(): void {
  clearInterval(state.queueTimer as number);
  clearTimeout(state.queueTimer as number);
  state.queue = null;
  $("waiting").hidden = true;
  video.hidden = false;
}

$("leave-queue").addEventListener("click", () => {
  stop();
  say("now-playing", () => t("viewer.queue.left"));
});

function startPlayer(ch: Channel, granted: Extract<Access, { status: "granted" }>): void {
  say("now-playing", () => t("viewer.player.playing", { channel: ch.title }), "ok");
  setPathway({ kind: "starting" });
  if (typeof Hls !== "undefined" && Hls.isSupported()) {
    const hls = new Hls({ lowLatencyMode: false });
    state.hls = hls;
    const attempt = state.attempt;
    let mediaRecoveries = 0;
    hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
      logPlayer("frag", data.frag.url);
      showPathway(data.frag.url, hls.levels[data.frag.level]?.pathwayId);
    });
    hls.on(Hls.Events.STEERING_MANIFEST_LOADED, () => {
      // The platform's current order of pathways (stadium node first while it is healthy and reached).
      const order = hls.pathwayPriority ?? [];
      $("steering").textContent = order.join(" → ") || "–";
      $("steering-line").hidden = !order.length;
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch(() => undefined));
    hls.on(Hls.Events.ERROR, (_e, data) => {
      logPlayer("error", `${data.details} ${data.response?.code ?? ""}`.trim(), data.fatal);
      if (!data.fatal || attempt !== state.attempt) return;
      const code = data.response?.code ?? 0;
      if (code === 410 || code === 403) {
        // The lease ended or the link is no longer valid: ask for access again, which may mean the line.
        say("now-playing", () => t("viewer.player.sessionEnded"));
        void play(ch);
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaRecoveries++ < 3) {
        hls.recoverMediaError();
      } else if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        say("now-playing", () => t("viewer.player.stalled"), "error");
        setTimeout(() => attempt === state.attempt && hls.startLoad(), 2000);
      } else {
        say("now-playing", () => t("viewer.player.failed"), "error");
      }
    });
    hls.loadSource(granted.playbackUrl);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = granted.playbackUrl;
    void video.play().catch(() => undefined);
    setPathway({ kind: "native" });
  } else {
    say("now-playing", () => t("viewer.player.noHls"), "error");
  }
  clearInterval(state.cacheTimer as number);
  state.cacheTimer = setInterval(() => void refreshCaches(), CACHE_RECHECK_MS);
}

/** Shows where the last fragment came from: a stadium node (by host) or the internet edge. */
function showPathway(url: string, pathwayId: string | undefined): void {
  let host = "";
  try {
    host = new URL(url, location.href).host;
  } catch {
    return;
  }
  const node = state.caches.nodes.find((n) => hostOf(n.baseUrl) === host);
  setPathway(node ? { kind: "stadium", name: node.name } : host === location.host ? { kind: "edge" } : { kind: "other", host, ...(pathwayId ? { pathwayId } : {}) });
  $("pathway").dataset.pathway = pathwayId ?? "";
}

function setPathway(p: Pathway): void {
  state.pathway = p;
  renderPathway();
}

function renderPathway(): void {
  const el = $("pathway");
  const p = state.pathway;
  const text =
    p.kind === "none" ? "–"
    : p.kind === "starting" ? t("viewer.source.starting")
    : p.kind === "native" ? t("viewer.source.native")
    : p.kind === "stadium" ? t("viewer.source.stadium", { name: p.name })
    : p.kind === "edge" ? t("viewer.source.edge")
    : `${p.pathwayId ?? t("viewer.source.otherPathway")} (${p.host})`;
  if (p.kind === "stadium" || p.kind === "edge" || p.kind === "other") el.dataset.kind = p.kind;
  else delete el.dataset.kind;
  if (el.textContent !== text) el.textContent = text;
}

function hostOf(u: string): string {
  try {
    return new URL(u, location.href).host;
  } catch {
    return "";
  }
}

/** Stops playback and any waiting, and frees the session's slot at once. */
function stop(): void {
  state.attempt++;
  hideQueue();
  clearInterval(state.cacheTimer as number);
  state.hls?.destroy();
  state.hls = null;
  video.removeAttribute("src");
  video.load();
  endSession(false);
  state.wanted = null;
  $<HTMLButtonElement>("stop").disabled = true;
  setPathway({ kind: "none" });
  $("steering-line").hidden = true;
}

function endSession(leaving: boolean): void {
  const s = state.session;
  state.session = null;
  if (!s) return;
  // The playback token proves the session without an account, so anonymous viewers free their slot too.
  void fetch(`/api/v1/sessions/${encodeURIComponent(s.id)}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${s.playbackToken}` },
    keepalive: leaving,
  }).catch(() => undefined);
}

$("stop").addEventListener("click", () => {
  stop();
  say("now-playing", () => t("viewer.player.stopped"));
});
addEventListener("pagehide", () => endSession(true));

// ---- stadium caches ------------------------------------------------------------------------------

/**
 * Reports the node this session reaches now (or none) when that changed, so the platform's steering
 * manifest puts it first, or drops it. Best effort: a platform without the endpoint just keeps the edge.
 */
async function reportCache(): Promise<void> {
  const s = state.session;
  const cacheId = state.caches.reachable?.id ?? null;
  if (!s || s.cacheId === cacheId) return;
  s.cacheId = cacheId;
  try {
    await api(`/sessions/${encodeURIComponent(s.id)}`, {
      method: "PUT",
      token: s.playbackToken,
      json: { cacheId, steering: true },
      signal: AbortSignal.timeout(3000),
    });
  } catch {
    // Not available (or refused): playback goes on through the internet edge.
  }
}

async function refreshCaches(): Promise<void> {
  if (!state.eventId) return;
  state.caches = await probeCaches(state.eventId);
  state.cachesChecked = true;
  renderCacheStatus();
  await reportCache();
}

function renderCacheStatus(): void {
  const el = $("cache-status");
  const c = state.caches;
  el.dataset.reachable = c.reachable?.id ?? "";
  el.textContent = !state.cachesChecked
    ? t("viewer.cache.notChecked")
    : !c.available
      ? t("viewer.cache.unavailable")
      : !c.nodes.length
        ? t("viewer.cache.noneServes")
        : c.reachable
          ? c.reachable.rttMs !== undefined
            ? t("viewer.cache.reachableRtt", { name: c.reachable.name, ms: c.reachable.rttMs })
            : t("viewer.cache.reachable", { name: c.reachable.name })
          : t("viewer.cache.noneReachable", { names: c.nodes.map((n) => n.name).join(", ") });
}

// ---- start -------------------------------------------------------------------------------------

// A switch of language redraws everything drawn from data; the status lines say themselves again (web/i18n say()).
onLocaleChange(() => {
  renderAccount();
  renderChannels();
  renderProducts();
  renderPurchases();
  renderQueue();
  renderPathway();
  renderCacheStatus();
});

async function main(): Promise<void> {
  say("now-playing", () => t("viewer.player.idle"));
  renderCacheStatus();
  renderPurchases();
  await Promise.all([restoreSession(), loadEvents(), loadProducts()]);
  await Promise.all([loadChannels(), loadPurchases()]);
  void refreshCaches();
  document.body.dataset.ready = "true";
}
void main();
