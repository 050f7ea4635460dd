// The kiosk page at `/kiosk`: staff type or scan a goods code, see what it is for and whether it was redeemed, and
// redeem it once; with a kiosk token (or the operator token), in Russian or English (web/i18n).
import { $, api, ApiError, h } from "./api";
import { errorText, formatDateTime, initI18n, onLocaleChange, say, t } from "./i18n";
import { groupedCode } from "./qr";

interface CodeStatus {
  code: string;
  productTitle: string;
  buyerLogin: string;
  purchasedAt: string;
  redeemed: boolean;
  redeemedAt?: string;
  kioskId?: string;
  kioskName?: string;
}

const TOKEN_KEY = "balancer.kioskToken";

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  kioskName: "",
  /** The code last checked, as shown (null: nothing checked yet). */
  shown: null as CodeStatus | null,
};

initI18n();
onLocaleChange(() => {
  renderKioskName();
  renderResult();
});

// ---- token ---------------------------------------------------------------------------------------

$<HTMLFormElement>("token-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const token = $<HTMLInputElement>("token").value.trim();
  if (!token) return;
  if (await open(token)) {
    sessionStorage.setItem(TOKEN_KEY, token);
    $<HTMLInputElement>("token").value = "";
  }
});

$("forget-token").addEventListener("click", () => {
  stopCamera();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.shown = null;
  $("kiosk").hidden = true;
  $("token-section").hidden = false;
  $("forget-token").hidden = true;
  $("kiosk-name").hidden = true;
  say("status", () => t("kiosk.token.forgotten"));
  $("token").focus();
});

/** Asks the platform whose token this is; opens the kiosk when it is a kiosk's or the operator's. */
async function open(token: string): Promise<boolean> {
  try {
    const { body } = await api<{ kioskId: string; kioskName: string }>("/kiosk/session", { token });
    state.token = token;
    state.kioskName = body.kioskId === "operator" ? "" : body.kioskName;
  } catch (err) {
    const rejected = err instanceof ApiError && err.status === 401;
    // A token the platform refuses (a deleted kiosk's) is not offered again on the next visit.
    if (rejected) sessionStorage.removeItem(TOKEN_KEY);
    say("status", rejected ? () => t("kiosk.token.rejected") : errorText(err), "error");
    return false;
  }
  $("token-section").hidden = true;
  $("kiosk").hidden = false;
  $("forget-token").hidden = false;
  renderKioskName();
  say("status", "");
  $("code").focus();
  return true;
}

function renderKioskName(): void {
  const el = $("kiosk-name");
  el.hidden = !state.token;
  el.textContent = state.kioskName ? t("kiosk.signedInAs", { kiosk: state.kioskName }) : t("kiosk.signedInAsOperator");
}

// ---- codes ---------------------------------------------------------------------------------------

const codeInput = $<HTMLInputElement>("code");
codeInput.addEventListener("input", () => {
  // A new code clears the last answer, so Redeem never acts on a code other than the one shown.
  state.shown = null;
  renderResult();
  say("code-status", "");
});

$<HTMLFormElement>("code-form").addEventListener("submit", (e) => {
  e.preventDefault();
  void check();
});
$("redeem").addEventListener("click", () => void redeem());

function typedCode(): string {
  return codeInput.value.trim();
}

async function check(): Promise<void> {
  const code = typedCode();
  if (!code || !state.token) return;
  say("code-status", () => t("kiosk.code.checking"));
  try {
    state.shown = (await api<CodeStatus>(`/kiosk/codes/${encodeURIComponent(code)}`, { token: state.token })).body;
    const shown = state.shown;
    say("code-status", shown.redeemed ? () => alreadyRedeemed(shown.redeemedAt, shown.kioskId, shown.kioskName) : () => t("kiosk.code.valid"), shown.redeemed ? "error" : "ok");
  } catch (err) {
    state.shown = null;
    failed(err);
  }
  renderResult();
}

async function redeem(): Promise<void> {
  const shown = state.shown;
  if (!shown || shown.redeemed || !state.token) return;
  $<HTMLButtonElement>("redeem").disabled = true;
  try {
    state.shown = (await api<CodeStatus>(`/kiosk/codes/${encodeURIComponent(shown.code)}/redemption`, { method: "POST", token: state.token })).body;
    say("code-status", () => t("kiosk.code.redeemedNow", { product: shown.productTitle }), "ok");
    codeInput.select();
  } catch (err) {
    if (err instanceof ApiError && err.code === "already_redeemed") {
      const b = err.body as { redeemedAt?: string; kioskId?: string; kioskName?: string };
      state.shown = { ...shown, redeemed: true, redeemedAt: b.redeemedAt, kioskId: b.kioskId, kioskName: b.kioskName };
    }
    failed(err);
  }
  renderResult();
}

function failed(err: unknown): void {
  if (err instanceof ApiError && err.code === "already_redeemed") {
    const b = err.body as { redeemedAt?: string; kioskId?: string; kioskName?: string };
    return say("code-status", () => alreadyRedeemed(b.redeemedAt, b.kioskId, b.kioskName), "error");
  }
  if (err instanceof ApiError && err.code === "not_found") return say("code-status", () => t("kiosk.code.unknown"), "error");
  if (err instanceof ApiError && err.code === "unauthenticated") return say("code-status", () => t("kiosk.token.rejected"), "error");
  say("code-status", errorText(err), "error");
}

/** "Already redeemed on 5 Dec 2026, 21:14 at Food court kiosk." */
function alreadyRedeemed(at: string | undefined, kioskId: string | undefined, kioskName: string | undefined): string {
  return t("kiosk.code.alreadyRedeemed", { date: at ? formatDateTime(new Date(at)) : "?", kiosk: where(kioskId, kioskName) });
}

function where(kioskId: string | undefined, kioskName: string | undefined): string {
  return kioskId === "operator" ? t("kiosk.operator") : kioskName || kioskId || "?";
}

function renderResult(): void {
  const s = state.shown;
  const dl = $("result");
  $<HTMLButtonElement>("redeem").disabled = !s || s.redeemed;
  dl.hidden = !s;
  if (!s) return dl.replaceChildren();
  const row = (label: string, value: string) => [h("dt", {}, label), h("dd", {}, value)];
  dl.replaceChildren(
    ...row(t("kiosk.result.code"), groupedCode(s.code)),
    ...row(t("kiosk.result.product"), s.productTitle),
    ...row(t("kiosk.result.buyer"), s.buyerLogin),
    ...row(t("kiosk.result.purchased"), formatDateTime(new Date(s.purchasedAt))),
    ...row(
      t("kiosk.result.state"),
      s.redeemed ? alreadyRedeemed(s.redeemedAt, s.kioskId, s.kioskName) : t("kiosk.result.notRedeemed"),
    ),
  );
}

// ---- camera ----------------------------------------------------------------------------------------
// Where the browser can detect QR codes (BarcodeDetector: Chrome on Android, ChromeOS and macOS), the kiosk's own
// camera reads the viewer's QR code; elsewhere a scanner that types, or the keyboard, does.

interface DetectedBarcode { rawValue: string }
interface BarcodeDetectorLike { detect(source: HTMLVideoElement): Promise<DetectedBarcode[]> }
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

const camera = { offered: false, stream: null as MediaStream | null, timer: 0 as ReturnType<typeof setTimeout> | number };
const SCAN_EVERY_MS = 200;

function detectorClass(): BarcodeDetectorClass | undefined {
  return (window as unknown as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
}

async function offerCamera(): Promise<void> {
  const Detector = detectorClass();
  if (!Detector || !navigator.mediaDevices?.getUserMedia) return;
  try {
    if (!(await Detector.getSupportedFormats()).includes("qr_code")) return;
  } catch {
    return;
  }
  camera.offered = true;
  $("scan").hidden = false;
}

async function startCamera(): Promise<void> {
  const Detector = detectorClass();
  if (!Detector || camera.stream) return;
  const detector = new Detector({ formats: ["qr_code"] });
  const video = $<HTMLVideoElement>("camera");
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    return say("code-status", () => t("kiosk.scan.unavailable"), "error");
  }
  video.srcObject = camera.stream;
  video.hidden = false;
  $("scan").hidden = true;
  $("scan-stop").hidden = false;
  say("code-status", () => t("kiosk.scan.looking"));
  await video.play().catch(() => undefined);
  const tick = async (): Promise<void> => {
    if (!camera.stream) return;
    let read: string | undefined;
    try {
      read = (await detector.detect(video)).map((b) => b.rawValue.trim()).find(Boolean);
    } catch {
      // A frame that is not ready yet: the next one is tried.
    }
    if (!camera.stream) return;
    if (read) {
      stopCamera();
      codeInput.value = groupedCode(read.toUpperCase());
      return void check();
    }
    camera.timer = setTimeout(() => void tick(), SCAN_EVERY_MS);
  };
  void tick();
}

function stopCamera(): void {
  clearTimeout(camera.timer as number);
  for (const track of camera.stream?.getTracks() ?? []) track.stop();
  camera.stream = null;
  const video = $<HTMLVideoElement>("camera");
  video.srcObject = null;
  video.hidden = true;
  $("scan-stop").hidden = true;
  $("scan").hidden = !camera.offered;
}

$("scan").addEventListener("click", () => void startCamera());
$("scan-stop").addEventListener("click", () => {
  stopCamera();
  say("code-status", "");
});

// ---- start ---------------------------------------------------------------------------------------

void (async () => {
  if (state.token) await open(state.token);
  else $("token").focus();
  await offerCamera();
  // The browser tests wait for this before they act.
  document.body.dataset.ready = "true";
})();
