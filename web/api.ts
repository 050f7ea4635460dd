// Browser side of the public API: one fetch helper whose failures are sentences a person can read.

/** A failed API call: `message` is a sentence for the page, `code` and `status` are for the code's decisions. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly body: Record<string, unknown> = {},
    /** Seconds from the Retry-After header of a retryable refusal. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export interface ApiResult<T> {
  status: number;
  body: T;
  headers: Headers;
}

const NETWORK_MESSAGE = "The platform could not be reached. Check the connection and try again.";

/** Calls `/api/v1{path}`; resolves for 2xx, throws ApiError with a readable sentence otherwise. */
export async function api<T>(path: string, init: RequestInit & { token?: string | null; json?: unknown } = {}): Promise<ApiResult<T>> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { ...init, headers, body });
  } catch {
    throw new ApiError(NETWORK_MESSAGE, 0, "network");
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page or similar: handled below as a failure without a body.
  }
  if (res.ok) return { status: res.status, body: parsed as T, headers: res.headers };
  const retryAfter = Number(res.headers.get("retry-after"));
  throw toApiError(res.status, parsed, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
}

function toApiError(status: number, parsed: unknown, retryAfterSeconds?: number): ApiError {
  const error = (parsed as { error?: Record<string, unknown> } | undefined)?.error;
  const code = typeof error?.code === "string" ? error.code : "http_" + status;
  let message = typeof error?.message === "string" && error.message ? error.message : fallbackMessage(status);
  // Field problems of a 400 read as one sentence: "Check login: at least 3 characters."
  const issues = Array.isArray(error?.issues) ? (error.issues as { path?: string; message?: string }[]) : [];
  if (code === "invalid_request" && issues.length) {
    message = "Please check " + issues.map((i) => `${lastSegment(i.path)}: ${i.message ?? "not valid"}`).join("; ") + ".";
  }
  return new ApiError(message, status, code, error ?? {}, retryAfterSeconds);
}

function lastSegment(path: string | undefined): string {
  const parts = (path ?? "").split(/[./]/).filter(Boolean);
  return parts[parts.length - 1] ?? "the form";
}

function fallbackMessage(status: number): string {
  if (status === 404) return "This is not available on this platform.";
  if (status === 401) return "Sign in first.";
  if (status >= 500) return "Something went wrong on the platform's side. Try again in a moment.";
  return `The request failed (HTTP ${status}).`;
}

/** A short, stable-enough random key for Idempotency-Key. */
export function idempotencyKey(): string {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** `document.getElementById` that fails loudly when the page and the script disagree. */
export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

/** Builds an element with text and attributes, without innerHTML (names from the API are never parsed as HTML). */
/** Shows a status line in element `id`; the tone picks its colour (see .status in public/style.css). */
export function say(id: string, text: string, tone: "info" | "error" | "ok" = "info"): void {
  const el = $(id);
  el.textContent = text;
  el.dataset.tone = tone;
}

/** What to tell a user about a failed call: the API's own message, or a generic one for anything else. */
export function errorText(err: unknown): string {
  return err instanceof ApiError ? err.message : "Something unexpected happened. Reload the page and try again.";
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function formatMoney(price: { amount: number; currency: string }): string {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: price.currency }).format(price.amount / 100);
  } catch {
    return `${(price.amount / 100).toFixed(2)} ${price.currency}`;
  }
}
