// One upstream body, many readers: each reader replays what has arrived and then follows the
// upstream as it streams. This is how one origin fetch serves every concurrent request for a segment.
import { pumpBlob, type Progress } from "../playback/counted-body";
import { keepAlive, Signal } from "./await-shared";

/**
 * Reads from a byte stream (a fetch body, a body over RPC) take everything that has arrived, up to
 * READ_BUFFER_BYTES, at once: the default reader hands script one 4 KiB piece at a time, 260 reads for a
 * 1 MB segment at each of the shield and the edge, each a turn of the event loop that a lone miss waits
 * through. A piece smaller than KEEP_MIN_BYTES is copied out, so it does
 * not keep a whole read buffer alive. No minimum is waited for: a part an LL-HLS origin sends as it is
 * made goes on at once.
 */
const READ_BUFFER_BYTES = 64 * 1024;
const KEEP_MIN_BYTES = 16 * 1024;

/** Readers are woken once this many new bytes have arrived, or NOTIFY_MS after the first of them. */
const NOTIFY_BYTES = 64 * 1024;
const NOTIFY_MS = 5;

/** A body being received once and read by any number of readers, each from the first byte. */
export class FanoutBody {
  private readonly chunks: Uint8Array[] = [];
  private received = 0;
  private finished = false;
  private error: unknown = null;
  /** The whole body, joined once when the upstream ends: readers then send what they lack as a view of it, never a copy. */
  private whole: Uint8Array | null = null;
  /** The whole body as a Blob, made once when complete: workerd sends a Blob natively, without script in the loop. */
  private wholeBlob: Blob | null = null;
  /** Fired when readers have something new: enough bytes, the end, or an error. */
  private readonly changed = new Signal();
  private notifiedBytes = 0;
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  /** Resolves with the whole body once the upstream ends; rejects if it fails. */
  readonly complete: Promise<Uint8Array>;

  constructor(source: ReadableStream<Uint8Array>, private readonly maxBytes = Number.POSITIVE_INFINITY) {
    this.complete = this.pump(chunkReader(source));
    // A failure is delivered to readers; this keeps an unread rejection from being reported as unhandled.
    this.complete.catch(() => {});
  }

  /** The whole body once the upstream has ended, else null. */
  get blob(): Blob | null {
    return this.wholeBlob;
  }

  private async pump(reader: ChunkReader): Promise<Uint8Array> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!value || value.byteLength === 0) continue;
        this.received += value.byteLength;
        if (this.received > this.maxBytes) throw new BodyTooLargeError(this.maxBytes);
        this.chunks.push(value);
        this.arrived();
      }
      this.whole = concat(this.chunks, this.received);
      this.chunks.length = 0; // from now on readers take views of `whole`
      this.wholeBlob = new Blob([this.whole]);
      this.finished = true;
      this.notify();
      return this.whole;
    } catch (err) {
      this.error = err;
      this.notify();
      reader.cancel(err).catch(() => {});
      throw err;
    }
  }

  /**
   * Wakes readers for new bytes in batches: an origin body arrives in 4 KiB pieces, and waking 500 readers
   * per piece would cost a write each (a 1 MB segment to 500 viewers was 131,000 writes). Runs in the
   * request that reads the upstream, so the timer is that request's own.
   */
  private arrived(): void {
    if (this.received - this.notifiedBytes >= NOTIFY_BYTES) this.notify();
    else this.notifyTimer ??= setTimeout(() => this.notify(), NOTIFY_MS);
  }

  private notify(): void {
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    this.notifiedBytes = this.received;
    this.changed.fire();
  }

  /**
   * What a reader that has sent `sent` bytes (all of `index` chunks) sends next: a view of the whole body once
   * it is complete (no copy, however many readers), else everything that has arrived as one piece (workerd
   * pays per write, and an origin body arrives in 4 KiB pieces: a 1 MB segment to 500 viewers was 131,000
   * writes). Null when nothing new has arrived.
   */
  private next(index: number, sent: number): { piece: Uint8Array; index: number } | null {
    if (this.whole) return sent < this.whole.byteLength ? { piece: this.whole.subarray(sent), index: this.chunks.length } : null;
    const end = this.chunks.length;
    if (index >= end) return null;
    return { piece: index + 1 === end ? this.chunks[index]! : concat(this.chunks.slice(index, end)), index: end };
  }

  /** A new stream over the whole body, starting at byte 0, following the upstream. */
  reader(): ReadableStream<Uint8Array> {
    let index = 0;
    let sent = 0;
    let stop: (() => void) | null = null;
    const done = () => {
      stop?.();
      stop = null;
    };
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        for (;;) {
          const next = this.next(index, sent);
          if (next) {
            controller.enqueue(next.piece);
            index = next.index;
            sent += next.piece.byteLength;
            return;
          }
          if (this.error) {
            done();
            controller.error(this.error);
            return;
          }
          if (this.finished) {
            done();
            controller.close();
            return;
          }
          // The upstream is read by the request that started the load; this reader waits in its own
          // context, with a timer of its own pending (see await-shared.ts).
          stop ??= keepAlive();
          await this.changed.wait();
        }
      },
      cancel: done,
    });
  }

  /**
   * Writes the whole body, from byte 0, into `writable` as it arrives, then closes it; aborts it if the
   * upstream fails. Cheaper per viewer than piping reader(): no script-side stream between the body and
   * a response's native stream. Resolves when done; rejects if the upstream failed or the viewer left.
   * Given `progress`, its `sent` counts the bytes the viewer's connection took (the Blob then goes in pieces).
   */
  async writeTo(writable: WritableStream<Uint8Array>, progress?: Progress): Promise<void> {
    const writer = writable.getWriter();
    let index = 0;
    let sent = 0;
    let stop: (() => void) | null = null;
    try {
      for (;;) {
        if (this.wholeBlob) {
          // Complete: the rest goes out as a native pipe from the Blob, several times cheaper per byte
          // than writes from script (500 viewers of one new segment were bound by those writes).
          writer.releaseLock();
          const rest = sent === 0 ? this.wholeBlob : this.wholeBlob.slice(sent);
          return await (progress ? pumpBlob(rest, writable, progress) : rest.stream().pipeTo(writable));
        }
        const next = this.next(index, sent);
        if (next) {
          await writer.write(next.piece);
          index = next.index;
          sent += next.piece.byteLength;
          if (progress) progress.sent = sent;
          continue;
        }
        if (this.error) throw this.error;
        if (this.finished) break;
        stop ??= keepAlive();
        await this.changed.wait();
      }
    } catch (err) {
      await writer.abort(err).catch(() => {});
      throw err;
    } finally {
      stop?.();
    }
    await writer.close();
  }
}

/** The part of a stream reader the pump uses. */
interface ChunkReader {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
}

/** Reads `source` in pieces of all that has arrived where it is a byte stream, else as it comes. */
function chunkReader(source: ReadableStream<Uint8Array>): ChunkReader {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = source.getReader({ mode: "byob" });
  } catch {
    return source.getReader(); // a script-made stream, such as a playlist already in memory
  }
  return {
    async read() {
      const result = await byob.read(new Uint8Array(READ_BUFFER_BYTES));
      const value = result.value;
      if (!value || value.byteLength === 0) return result.done ? { done: true, value: undefined } : { done: false, value: new Uint8Array(0) };
      return { done: false, value: value.byteLength < KEEP_MIN_BYTES ? value.slice() : value };
    },
    cancel: (reason) => byob.cancel(reason),
  };
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
