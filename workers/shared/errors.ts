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
