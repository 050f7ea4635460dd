// Ending a viewing session at once: DELETE /sessions/{id} with the playback token or the viewer's own token.
import { createRoute, z } from "@hono/zod-openapi";
import { releaseSession } from "../admission/event-admission";
import { DomainError } from "../../shared/errors";
import { verifyPlaybackToken } from "../../shared/playback/token";
import { sessionOwner } from "../admission/session-owner";
import { sessionWatch } from "../admission/session-watch";
import { lookupViewer } from "../middleware/viewer-auth";
import { apiApp, errorResponses } from "../openapi";

const SessionParamsSchema = z.object({
  sessionId: z
    .string()
    .regex(/^ses_[0-9a-f]{32}(\.\d{1,2})?$/, "a session id from an access response")
    .openapi({ param: { name: "sessionId", in: "path" } }),
});

export const sessions = apiApp();

sessions.openapi(
  createRoute({
    method: "delete",
    path: "/sessions/{sessionId}",
    summary: "End a viewing session now; its slot is free at once",
    security: [{ playbackOrViewerToken: [] }],
    request: { params: SessionParamsSchema },
    responses: { 204: { description: "Ended" }, ...errorResponses(400, 401, 404) },
  }),
  async (c) => {
    const { sessionId } = c.req.valid("param");
    const bearer = /^Bearer +(\S+) *$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!bearer) throw new DomainError({ code: "unauthenticated", message: "Send the playback token or your viewer token." });

    // A playback token names its session and event; a viewer token is matched through the session's owner record.
    let eventId: string | null = null;
    const asPlayback = await verifyPlaybackToken(bearer, c.var.config.verifyKeys, Date.now() / 1000);
    if (asPlayback.ok) {
      if (asPlayback.claims.s === sessionId) eventId = asPlayback.claims.e;
    } else {
      const viewer = await lookupViewer(c);
      if (viewer.status !== "ok") throw new DomainError({ code: "unauthenticated", message: "Send the playback token or your viewer token." });
      const owner = await sessionOwner(c.env, sessionId);
      if (owner && owner.userId === viewer.viewer.userId) eventId = owner.eventId;
    }
    // Someone else's session looks exactly like one that does not exist.
    if (!eventId) throw new DomainError({ code: "not_found", message: "There is no such session of yours." });
    const result = await releaseSession(c.env, eventId, sessionId);
    if (result === "unknown") throw new DomainError({ code: "not_found", message: "There is no such session of yours." });
    sessionWatch.markEnded(sessionId, Date.now());
    return c.body(null, 204);
  },
);
