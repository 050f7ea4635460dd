// Shared helpers for the demo-origin tests: requests into the worker and byte digests.
import { exports } from "cloudflare:workers";

export const ORIGIN = "http://origin.test";

/** A request to the demo origin's default export, as a client would send it. */
export function get(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

export async function sha256(bytes: ArrayBuffer | Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The media sequence numbers a media playlist lists, in order. */
export function listedSegments(playlist: string): number[] {
  return playlist
    .split("\n")
    .filter((l) => l.startsWith("seg-"))
    .map((l) => Number(/^seg-(\d+)\./.exec(l)?.[1]));
}

export function expectErrorBody(body: unknown, code: string): void {
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  if (error?.code !== code || typeof error.message !== "string") {
    throw new Error(`expected error ${code}, got ${JSON.stringify(body)}`);
  }
}

/**
 * A body as UTF-8 text. Read through bytes because workerd warns on `.text()` for any content type it
 * does not consider text, and application/vnd.apple.mpegurl is one of them.
 */
export async function textOf(res: Response): Promise<string> {
  return new TextDecoder().decode(await res.arrayBuffer());
}
