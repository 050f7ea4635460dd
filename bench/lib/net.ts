// Small networking helpers for the bench: free ports, waiting for a listener, one timed GET (and a lean one for crowds).
import { createServer, connect, type Socket } from "node:net";
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

export interface RawTimedResponse {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** Milliseconds from sending the request to the last body byte. */
  ms: number;
}

/** A connection opened ahead of its one GET. */
export interface OpenConnection {
  /** Sends the GET now and reads the response with no HTTP machinery beyond the header block. */
  get(): Promise<RawTimedResponse>;
  close(): void;
}

/**
 * Opens a connection for one GET of `url`, the way a player already holds a keep-alive connection to its
 * CDN when it asks for the next segment. The crowd row opens 500 of these, then sends every request at
 * once: Node's http client, connecting as it sent, costs more than the servers it measures, so its figures
 * would be the client's. The response needs Content-Length; one
 * without it, a short body or a timeout (counted from the request) rejects.
 */
export function openConnection(url: string, timeoutMs: number): Promise<OpenConnection> {
  const u = new URL(url);
  const request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n\r\n`, "latin1");
  return new Promise((resolveOpen, rejectOpen) => {
    const sock = connect(Number(u.port || 80), u.hostname);
    const openTimer = setTimeout(() => {
      sock.destroy();
      rejectOpen(new Error(`could not connect within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once("error", (err) => {
      clearTimeout(openTimer);
      rejectOpen(err);
    });
    sock.once("connect", () => {
      clearTimeout(openTimer);
      sock.removeAllListeners("error");
      resolveOpen({ get: () => readOne(sock, request, timeoutMs), close: () => sock.destroy() });
    });
  });
}

function readOne(sock: Socket, request: Buffer, timeoutMs: number): Promise<RawTimedResponse> {
  return new Promise((resolve, reject) => {
    let head: Buffer | null = Buffer.alloc(0);
    let status = 0;
    let length = -1;
    let bytes = 0;
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve({ status, bytes, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish(new Error(`no full response within ${timeoutMs} ms`)), timeoutMs);
    sock.on("data", (d: Buffer) => {
      if (head) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const text = head.subarray(0, end).toString("latin1");
        status = Number(text.slice(9, 12));
        const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(text);
        if (!m) return finish(new Error(`status ${status} without Content-Length`));
        length = Number(m[1]);
        bytes = head.length - end - 4;
        head = null;
      } else bytes += d.length;
      if (bytes >= length) finish(null);
    });
    sock.on("error", (err) => finish(err));
    sock.on("close", () => finish(new Error(`connection closed after ${bytes} of ${length < 0 ? "?" : length} body bytes`)));
    const t0 = performance.now();
    sock.write(request);
  });
}

/** One GET on a connection of its own, opened first and not counted (see openConnection). */
export async function rawTimedGet(url: string, timeoutMs: number): Promise<RawTimedResponse> {
  return (await openConnection(url, timeoutMs)).get();
}
