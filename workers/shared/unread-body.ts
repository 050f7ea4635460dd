// A request body the handler did not read is read to its end before the answer goes out, so the client's
// kept-alive connection stays usable for its next request.
//
// workerd closes the connection when it answers a request whose body is still unread: the unread bytes are
// still in the socket, and the client's next request on that connection fails with ECONNRESET instead of
// its answer (an unknown /api path, a refused method on /play/, a route that takes no body, an error raised
// before the route read the body). Cancelling the body does not keep the connection; reading it does.

/**
 * The most bytes read and dropped to keep a connection. The API takes at most 64 KiB; a client sending more
 * than this where nothing reads it is not one to keep a connection for, and its body is cancelled.
 */
export const MAX_DISCARDED_BODY_BYTES = 1024 * 1024;

/** Reads what is left of an unread request body and drops it, up to MAX_DISCARDED_BODY_BYTES. */
export async function discardUnreadBody(request: Request): Promise<void> {
  const body = request.body;
  // Read by the route, or being read by something that took its reader: not ours to touch.
  if (body === null || request.bodyUsed || body.locked) return;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > MAX_DISCARDED_BODY_BYTES) {
    await body.cancel().catch(() => undefined);
    return;
  }
  const reader = body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
      if (read > MAX_DISCARDED_BODY_BYTES) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client stopped sending mid-body: its connection is gone anyway, and the answer still goes out.
  }
}

type Handler<E, C> = (request: Request, env: E, ctx: C) => Response | Promise<Response>;

/**
 * A fetch handler that answers only once the request's body has been read, by the handler or here. A request
 * without a body (every GET and HEAD a player sends) goes straight to the handler, with no extra promise.
 */
export function answerAfterBody<E, C>(handler: Handler<E, C>): Handler<E, C> {
  return (request, env, ctx) => {
    if (request.body === null) return handler(request, env, ctx);
    return (async () => {
      const response = await handler(request, env, ctx);
      await discardUnreadBody(request);
      return response;
    })();
  };
}
