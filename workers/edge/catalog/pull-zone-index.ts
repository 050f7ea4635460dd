// The list of provisioned stadium nodes, for the operator's GET /admin/pull-zones: one KV key per node id in
// the CATALOG namespace. The node's record itself (keys, events, health) lives in its PullZone object.
import { catalogKeys } from "./store";

export function pullZoneIndex(kv: KVNamespace) {
  return {
    put: (id: string) => kv.put(catalogKeys.pullZone(id), JSON.stringify({ id })),
    remove: (id: string) => kv.delete(catalogKeys.pullZone(id)),
    /** Every provisioned node id, in id order. */
    async list(): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await kv.list({ prefix: catalogKeys.pullZonePrefix, cursor });
        for (const k of page.keys) ids.push(k.name.slice(catalogKeys.pullZonePrefix.length));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return ids.sort();
    },
  };
}
