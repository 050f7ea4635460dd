// One upstream body, many readers: each reader replays what has arrived and then follows the
// upstream as it streams. This is how one origin fetch serves every concurrent request for a segment.
import { Backoff } from "./await-shared";

/** A body being received once and read by any number of readers, each from the first byte. */
export class FanoutBody {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private finished = false;
  private error: unknown = null;
  /** Resolves with the whole body once the upstream ends; rejects if it fails. */
  readonly complete: Promise<Uint8Array>;

  constructor(source: ReadableStream<Uint8Array>, private readonly maxBytes = Number.POSITIVE_INFINITY) {
    this.complete = this.pump(source.getReader());
    // A failure is delivered to readers; this keeps an unread rejection from being reported as unhandled.
    this.complete.catch(() => {});
  }

  get bytesReceived(): number {
    return this.received;
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!value || value.byteLength === 0) continue;
        this.received += value.byteLength;
        if (this.received > this.maxBytes) throw new BodyTooLargeError(this.maxBytes);
        this.chunks.push(value);
      }
      this.finished = true;
      return concat(this.chunks, this.received);
    } catch (err) {
      this.error = err;
      reader.cancel(err).catch(() => {});
      throw err;
    }
  }

  /** A new stream over the whole body, starting at byte 0, following the upstream. */
  reader(): ReadableStream<Uint8Array> {
    let index = 0;
    const backoff = new Backoff();
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          if (index < this.chunks.length) {
            // Everything that has arrived goes out as one write: workerd pays per chunk, and an
            // origin body arrives in 4 KiB pieces (a 1 MB segment to 500 viewers was 131,000 writes).
            const end = this.chunks.length;
            controller.enqueue(index + 1 === end ? this.chunks[index]! : concat(this.chunks.slice(index, end)));
            index = end;
            backoff.reset();
            return;
          }
          if (this.error) {
            controller.error(this.error);
            return;
          }
          if (this.finished) {
            controller.close();
            return;
          }
          // The upstream is read by the request that started the load; see await-shared.ts for why
          // readers poll on their own timers rather than wait for that request to wake them.
          await backoff.wait();
        }
      },
    });
  }
}

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`body larger than ${limit} bytes`);
  }
}

function concat(chunks: Uint8Array[], total = chunks.reduce((n, c) => n + c.byteLength, 0)): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

/**
 * Coalesces concurrent work by key: while a task for a key is running, callers for the same key
 * get the same promise instead of starting another.
 */
export class Coalescer<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key);
    if (running) return running;
    const p = task().finally(() => {
      if (this.inflight.get(key) === p) this.inflight.delete(key);
    });
    this.inflight.set(key, p);
    return p;
  }

  get size(): number {
    return this.inflight.size;
  }
}
