// Small networking helpers for the bench: free ports, waiting for a listener, one timed GET.
import { createServer, connect } from "node:net";
import { Agent, request, type IncomingHttpHeaders } from "node:http";

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`, or throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, "127.0.0.1");
      sock.once("connect", () => {
        sock.destroy();
        resolve(true);
      });
      sock.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export interface TimedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
  /** Milliseconds from sending the request to the last byte of the body. */
  ms: number;
  body: Buffer;
}

/**
 * One GET over its own connection unless an agent is given; times it to the last body byte. Never
 * takes longer than `timeoutMs` in total (default 15 s): past it the request is destroyed and rejects.
 */
export function timedGet(url: string, options: { agent?: Agent; timeoutMs?: number; keepBody?: boolean } = {}): Promise<TimedResponse> {
  const agent = options.agent ?? new Agent({ keepAlive: false });
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on("data", (d: Buffer) => {
        bytes += d.byteLength;
        if (options.keepBody) chunks.push(d);
      });
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, ms: performance.now() - t0, body: Buffer.concat(chunks) });
      });
      res.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no full response within ${timeoutMs} ms: ${url}`)), timeoutMs);
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
