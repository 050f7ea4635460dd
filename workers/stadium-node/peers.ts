// A node of several workerd processes on one port (service/cluster.ts): each cache key has one owner process,
// which alone fetches it from the platform; the others ask the owner on a miss. So the platform still sees
// one fetch per segment per node, however the kernel spreads viewers' connections over the processes.
import { fnv1a32 } from "../shared/fnv";

/** The header a process sends when it asks the owner process; its value is the node's stats key. */
export const PEER_HEADER = "x-balancer-peer";

/** The process that owns `cacheKey` (FNV-1a over the key, modulo the process count). */
export function ownerOf(cacheKey: string, processes: number): number {
  return fnv1a32(cacheKey) % processes;
}

/** Whether a request comes from another process of this node (its header carries the stats key). */
export function isPeerRequest(request: Request, statsKey: string): boolean {
  const presented = request.headers.get(PEER_HEADER);
  if (presented === null || presented.length !== statsKey.length) return false;
  let diff = 0;
  for (let i = 0; i < statsKey.length; i++) diff |= presented.charCodeAt(i) ^ statsKey.charCodeAt(i);
  return diff === 0;
}
