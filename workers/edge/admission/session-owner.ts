// Which event and viewer a session belongs to, so a viewer can end it with their own token.
import { z } from "zod";

// `login` names the viewer in the operator's list of sessions (absent in records written before it was kept).
const OwnerSchema = z.object({ eventId: z.string(), userId: z.string(), login: z.string().optional() });
export type SessionOwner = z.infer<typeof OwnerSchema>;

const key = (sessionId: string) => `session:${sessionId}`;

/** Stored for signed-in viewers at grant time; lives as long as the playback token. */
export async function rememberSessionOwner(env: Env, sessionId: string, owner: SessionOwner, ttlSeconds: number): Promise<void> {
  await env.ACCOUNTS.put(key(sessionId), JSON.stringify(owner), { expirationTtl: Math.max(60, ttlSeconds) });
}

export async function sessionOwner(env: Env, sessionId: string): Promise<SessionOwner | null> {
  const parsed = OwnerSchema.safeParse(await env.ACCOUNTS.get(key(sessionId), "json"));
  return parsed.success ? parsed.data : null;
}
