// The one catalogue of domain failures and the one place that turns them into HTTP responses.
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Every failure the platform reports to a client, as a tagged union. */
export type Failure =
  | { code: "invalid_request"; message: string; issues?: { path: string; message: string }[] }
  | { code: "not_found"; message?: string }
  | { code: "method_not_allowed" }
  | { code: "unauthenticated"; message?: string }
  | { code: "forbidden"; message?: string }
  /** A fresh anonymous access from a client address that holds the event's `maxSessionsPerAddress` places. */
  | { code: "address_limit"; limit: number }
  | { code: "invalid_token"; reason: string }
  | { code: "session_expired" }
  | { code: "entitlement_required"; productId: string }
  | { code: "login_taken" }
  | { code: "invalid_credentials" }
  | { code: "too_many_attempts"; retryAfterSeconds: number; message?: string }
  | { code: "payment_declined"; message?: string }
  | { code: "idempotency_conflict" }
  | { code: "already_owned"; productId: string }
  /** A goods code that cannot be one: wrong length, a character outside the alphabet, or a failed check character. */
  | { code: "invalid_code" }
  /** A goods code redeemed before: when, and at which kiosk. */
  | { code: "already_redeemed"; redeemedAt: string; kioskId: string; kioskName: string }
  /** A change the event's live state forbids now (its admission shards while it has sessions or queued viewers). */
  | { code: "event_busy"; message: string }
  | { code: "origin_error"; detail: string }
  | { code: "origin_timeout" }
  | { code: "bad_origin_playlist"; reason: string }
  | { code: "unavailable"; message: string; retryAfterSeconds: number }
  /** A fault of ours, not the client's: logged with its cause, never shown. */
  | { code: "internal" };

/** Thrown anywhere in a request; `app.onError` renders it. */
export class DomainError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.code);
  }
}

export const fail = (failure: Failure): never => {
  throw new DomainError(failure);
};

interface Rendered {
  status: ContentfulStatusCode;
  message: string;
  extra?: Record<string, unknown>;
  retryAfter?: number;
}

function render(f: Failure): Rendered {
  switch (f.code) {
    case "invalid_request":
      return { status: 400, message: f.message, extra: f.issues ? { issues: f.issues } : undefined };
    case "not_found":
      return { status: 404, message: f.message ?? "Nothing is here." };
    case "method_not_allowed":
      return { status: 405, message: "This method is not allowed on this path." };
    case "unauthenticated":
      return { status: 401, message: f.message ?? "Sign in first: this needs a valid bearer token." };
    case "forbidden":
      return { status: 403, message: f.message ?? "This token may not do that." };
    case "address_limit":
      return {
        status: 403,
        message: "This network address already holds as many anonymous sessions and queue places as the event allows. Sign in, or end a session you hold.",
        extra: { limit: f.limit },
      };
    case "invalid_token":
      // The reason is for logs; clients only learn that the link is not valid for this stream.
      return { status: 403, message: "This playback link is not valid for this stream. Ask for access again." };
    case "session_expired":
      return { status: 410, message: "This viewing session has ended. Ask for access again." };
    case "entitlement_required":
      return {
        status: 403,
        message: "This channel needs a pass you have not bought yet.",
        extra: { productId: f.productId },
      };
    case "login_taken":
      return { status: 409, message: "That login is already taken." };
    case "invalid_credentials":
      return { status: 401, message: "The login or password is wrong." };
    case "too_many_attempts":
      return {
        status: 429,
        message: f.message ?? "Too many failed attempts. Wait a few minutes and try again.",
        retryAfter: f.retryAfterSeconds,
      };
    case "payment_declined":
      return { status: 402, message: f.message ?? "The payment was declined." };
    case "idempotency_conflict":
      return { status: 409, message: "This Idempotency-Key was already used for a different request." };
    case "already_owned":
      return { status: 409, message: "You already own this; nothing was charged.", extra: { productId: f.productId } };
    case "invalid_code":
      return { status: 400, message: "This is not a valid code: check each character and try again. Nothing was looked up." };
    case "already_redeemed":
      return {
        status: 409,
        message: "This code was already redeemed.",
        extra: { redeemedAt: f.redeemedAt, kioskId: f.kioskId, kioskName: f.kioskName },
      };
    case "event_busy":
      return { status: 409, message: f.message };
    case "origin_error":
      return { status: 502, message: "The stream's origin did not answer properly." };
    case "origin_timeout":
      return { status: 504, message: "The stream's origin did not answer in time." };
    case "bad_origin_playlist":
      return { status: 502, message: "The stream's origin sent a playlist that cannot be served safely." };
    case "unavailable":
      return { status: 503, message: f.message, retryAfter: f.retryAfterSeconds };
    case "internal":
      return { status: 500, message: "Something went wrong on our side." };
  }
}

/** The public JSON error response for a failure: `{ error: { code, message, ...extra } }`. */
export function failureResponse(f: Failure, headers?: HeadersInit): Response {
  const r = render(f);
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  if (r.retryAfter !== undefined) h.set("retry-after", String(Math.max(1, Math.ceil(r.retryAfter))));
  return new Response(JSON.stringify({ error: { code: f.code, message: r.message, ...r.extra } }), {
    status: r.status,
    headers: h,
  });
}

/** Retry-After for a platform part that said it is overloaded: retrying at once would add to its load. */
const OVERLOADED_RETRY_SECONDS = 5;
/** workerd's mark on a Durable Object or the runtime shedding load (see unexpectedFailure). */
export function isOverloaded(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { overloaded?: unknown }).overloaded === true;
}

/** workerd's mark on a call lost on the way, a Durable Object reset or moved among them: worth one more try. */
export function isRetryable(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { retryable?: unknown }).retryable === true;
}

/** Retry-After for a platform call that failed on the way (an object reset or moving, a connection lost). */
const TRANSIENT_RETRY_SECONDS = 1;
// workerd's message for a KV call the KV service answered with an error status: "KV GET failed: 503 Service Unavailable".
const KV_FAILED = /^KV [A-Z_]+ failed: (\d{3})\b/;

/**
 * The failure to answer for an error no code turned into a DomainError. A transient platform failure is
 * `unavailable` (503 with Retry-After), so a client retries instead of reporting a fault; anything else is
 * `internal` (500). Recognised as transient:
 * - an error with `overloaded: true`: workerd sets it when a Durable Object is overloaded (too many requests
 *   queued) or the runtime sheds load;
 * - an error with `retryable: true`: workerd sets it on every disconnection ("Network connection lost."),
 *   among them a Durable Object reset or moved (`durableObjectReset: true`), for a stub's RPC call as for a
 *   KV call; also when it comes back from the object's own code (`remote: true`), which let such an error
 *   through;
 * - a KV call the KV service refused with 429 (too many writes to one key) or a 5xx.
 * An error the object's own code raised (`remote: true` alone) or any other error is a bug of ours: internal.
 */
export function unexpectedFailure(err: unknown): Failure {
  const message = "A part of the platform is briefly unavailable. Try again in a moment.";
  if (typeof err !== "object" || err === null) return { code: "internal" };
  const e = err as { message?: unknown };
  if (isOverloaded(err)) return { code: "unavailable", message, retryAfterSeconds: OVERLOADED_RETRY_SECONDS };
  if (isRetryable(err)) return { code: "unavailable", message, retryAfterSeconds: TRANSIENT_RETRY_SECONDS };
  const kv = typeof e.message === "string" ? KV_FAILED.exec(e.message) : null;
  const kvStatus = kv ? Number(kv[1]) : 0;
  if (kvStatus === 429 || kvStatus >= 500) return { code: "unavailable", message, retryAfterSeconds: TRANSIENT_RETRY_SECONDS };
  return { code: "internal" };
}
