// Kiosk credentials: one record per kiosk in the CATALOG namespace (`kiosk:<id>`), holding a hash of its token. A kiosk
// token is `kiosk.<id>.<secret>`; only the operator's PUT /admin/kiosks/{id} sees the secret, once.
import { z } from "zod";
import { encodeBase64Url } from "../../shared/base64url";
import { timingSafeEqualText } from "../../shared/timing-safe";

const PREFIX = "kiosk:";
const TOKEN = /^kiosk\.([a-z0-9][a-z0-9_-]{0,63})\.([A-Za-z0-9_-]{43})$/;

export const KioskRecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  /** base64url SHA-256 of the token's secret part. */
  secretHash: z.string(),
  createdAt: z.string(),
});
export type KioskRecord = z.infer<typeof KioskRecordSchema>;

async function hashSecret(secret: string): Promise<string> {
  return encodeBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))));
}

export function kioskStore(kv: KVNamespace) {
  async function get(id: string): Promise<KioskRecord | null> {
    const parsed = KioskRecordSchema.safeParse(await kv.get(PREFIX + id, "json"));
    // A record that does not parse is treated as absent: the kiosk cannot sign in until the operator issues it again.
    return parsed.success ? parsed.data : null;
  }

  return {
    get,

    /** Creates a kiosk with a fresh token (returned, never stored), or renames an existing one (no token). */
    async put(id: string, name: string, now: number): Promise<{ record: KioskRecord; token?: string }> {
      const existing = await get(id);
      if (existing) {
        const record = { ...existing, name };
        await kv.put(PREFIX + id, JSON.stringify(record));
        return { record };
      }
      const secret = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
      const record: KioskRecord = { id, name, secretHash: await hashSecret(secret), createdAt: new Date(now).toISOString() };
      await kv.put(PREFIX + id, JSON.stringify(record));
      return { record, token: `kiosk.${id}.${secret}` };
    },

    /** Deletes a kiosk; its token stops working (within KV's propagation, about a minute at most). */
    async remove(id: string): Promise<boolean> {
      if (!(await get(id))) return false;
      await kv.delete(PREFIX + id);
      return true;
    },

    /** Every kiosk, in id order. */
    async list(): Promise<KioskRecord[]> {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await kv.list({ prefix: PREFIX, cursor });
        for (const k of page.keys) ids.push(k.name.slice(PREFIX.length));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      const records = await Promise.all(ids.sort().map(get));
      return records.filter((r): r is KioskRecord => r !== null);
    },

    /** The kiosk whose token this is, or null for anything else (a malformed, unknown or deleted kiosk's token). */
    async verify(token: string): Promise<KioskRecord | null> {
      const m = TOKEN.exec(token);
      if (!m) return null;
      const record = await get(m[1]!);
      if (!record) return null;
      return (await timingSafeEqualText(await hashSecret(m[2]!), record.secretHash)) ? record : null;
    },
  };
}
