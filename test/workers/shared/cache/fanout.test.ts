// One upstream body read by many viewers: every reader gets the same bytes from byte 0, whether it joined
// before the first byte, midway or after the end; an upstream failure reaches every reader as an error,
// never as a short body that looks complete.
import { describe, expect, it } from "vitest";
import { FanoutBody } from "../../../../workers/shared/cache/fanout";

/** An upstream whose chunks are released by the test, one `push` at a time. */
function controlledUpstream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return {
    stream,
    push: (bytes: Uint8Array) => controller.enqueue(bytes),
    end: () => controller.close(),
    fail: (err: Error) => controller.error(err),
  };
}

const chunk = (n: number, size: number) => new Uint8Array(size).fill(n);
const settle = () => new Promise((r) => setTimeout(r, 30));

/** Every byte of a stream, read to its end (rejects if the stream errors). */
async function bodyOf(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return expected(...parts);
    parts.push(value);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function expected(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}

describe("FanoutBody", () => {
  it("gives readers that join before, during and after the upstream the same whole body, through writeTo and reader()", async () => {
    const up = controlledUpstream();
    const body = new FanoutBody(up.stream);
    const parts = [chunk(1, 4096), chunk(2, 4096), chunk(3, 1000)];
    const total = expected(...parts);

    const early = new FixedLengthStream(total.byteLength);
    const earlyDone = body.writeTo(early.writable);
    const earlyBytes = bodyOf(early.readable);
    const earlyStream = bodyOf(body.reader());

    up.push(parts[0]!);
    await settle();
    const middle = new IdentityTransformStream();
    const middleDone = body.writeTo(middle.writable);
    const middleBytes = bodyOf(middle.readable);
    up.push(parts[1]!);
    up.push(parts[2]!);
    up.end();
    expect(await body.complete).toEqual(total);

    const late = new FixedLengthStream(total.byteLength);
    const lateDone = body.writeTo(late.writable);
    const lateBytes = bodyOf(late.readable);
    const lateStream = bodyOf(body.reader());

    await Promise.all([earlyDone, middleDone, lateDone]);
    for (const got of await Promise.all([earlyBytes, earlyStream, middleBytes, lateBytes, lateStream])) expect(got).toEqual(total);
  });

  it("reads a byte stream (a fetch body, a body over RPC) whole, whatever the size of its pieces and of its last piece", async () => {
    for (const total of [0, 1, 4096, 32 * 1024 - 1, 32 * 1024, 200_000, 1_048_577]) {
      const { readable, writable } = new IdentityTransformStream();
      const body = new FanoutBody(readable);
      const sent = new Uint8Array(total).map((_, i) => (i * 7) % 251);
      const writer = writable.getWriter();
      // 4 KiB pieces, as an origin body arrives, queued at once rather than each awaited in turn.
      const pieces: Promise<void>[] = [];
      for (let off = 0; off < total; off += 4096) pieces.push(writer.write(sent.subarray(off, Math.min(total, off + 4096))));
      const writes = Promise.all(pieces).then(() => writer.close());
      const out = new IdentityTransformStream();
      const written = body.writeTo(out.writable);
      const [got] = await Promise.all([bodyOf(out.readable), written, writes]);
      // Compared here rather than with toEqual, which walks a megabyte element by element for seconds.
      expect(sameBytes(got, sent), `${total} bytes`).toBe(true);
      expect(sameBytes(await body.complete, sent), `${total} bytes, complete`).toBe(true);
    }
  });

  it("sends a late reader the completed body as views of one buffer, not a copy per reader", async () => {
    const up = controlledUpstream();
    const body = new FanoutBody(up.stream);
    for (let i = 0; i < 5; i++) up.push(chunk(i, 4096));
    up.end();
    const whole = await body.complete;
    const reader = body.reader().getReader();
    const first = await reader.read();
    expect(first.value?.buffer).toBe(whole.buffer);
    expect(first.value?.byteLength).toBe(5 * 4096);
    expect((await reader.read()).done).toBe(true);
  });

  it("errors every reader when the upstream fails midway, so no viewer gets a short body as if complete", async () => {
    const up = controlledUpstream();
    const body = new FanoutBody(up.stream);
    const sized = new FixedLengthStream(8192);
    const written = body.writeTo(sized.writable);
    const received = bodyOf(sized.readable);
    const streamed = bodyOf(body.reader());
    up.push(chunk(7, 4096));
    await settle();
    // Each outcome is awaited from the start: a rejection must not wait unobserved while another is checked.
    const outcomes = Promise.all([
      expect(written).rejects.toThrow("origin reset"),
      expect(received).rejects.toThrow(),
      expect(streamed).rejects.toThrow("origin reset"),
      expect(body.complete).rejects.toThrow("origin reset"),
    ]);
    up.fail(new Error("origin reset"));
    await outcomes;
  });

  it("stops with an error once the body passes its byte limit", async () => {
    const up = controlledUpstream();
    const body = new FanoutBody(up.stream, 6000);
    const out = new IdentityTransformStream();
    const written = body.writeTo(out.writable);
    void bodyOf(out.readable).catch(() => {});
    up.push(chunk(1, 4096));
    up.push(chunk(2, 4096));
    await expect(written).rejects.toThrow("body larger than 6000 bytes");
    await expect(body.complete).rejects.toThrow("body larger than 6000 bytes");
  });
});
