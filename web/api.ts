// Browser side of the public API: one fetch helper whose failures carry the API's error code, and two small DOM helpers.

/**
 * A failed API call. `code` is the API's error code (or `network`, or `http_<status>` without a JSON body): the pages
 * say it in the reader's language (web/i18n `errorText`); `message` is the server's English, kept for logs only.
 */
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

  /** The field problems of a `400 invalid_request`. */
  get issues(): { path?: string; message?: string }[] {
    return Array.isArray(this.body.issues) ? (this.body.issues as { path?: string; message?: string }[]) : [];
  }
}

export interface ApiResult<T> {
  status: number;
  body: T;
  headers: Headers;
}


/** Calls `/api/v1{path}`; resolves for 2xx, throws ApiError otherwise. */
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
    throw new ApiError("network failure", 0, "network");
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
  const message = typeof error?.message === "string" ? error.message : `HTTP ${status}`;
  return new ApiError(message, status, code, error ?? {}, retryAfterSeconds);
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
