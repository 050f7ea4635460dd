// The node's state file: its platform, id and registration key, kept across restarts (a service restart, a
// reboot) so that the operator provisions a node once. Mode 0600: the key registers this node id.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface NodeState {
  platformUrl: string;
  id: string;
  registrationKey: string;
}

/** Writes the state atomically (a temporary file renamed over it), readable by its owner only. */
export function writeNodeState(path: string, state: NodeState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** The kept state, or null when there is none; a file others can read is made owner-only first. */
export function readNodeState(path: string): NodeState | null {
  if (!existsSync(path)) return null;
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const raw = JSON.parse(readFileSync(path, "utf8")) as Partial<NodeState>;
  if (typeof raw.id !== "string" || typeof raw.registrationKey !== "string" || typeof raw.platformUrl !== "string") return null;
  return { platformUrl: raw.platformUrl, id: raw.id, registrationKey: raw.registrationKey };
}
