// A body handed to the connection piece by piece, so that a viewer who goes away mid-body is counted for the
// bytes written and not for the whole object (an abuser aborting large hits must not fill the event's
// egress budget). Each piece is a native pipe from a slice of the Blob: no byte passes through script.
//
// Pieces cost: a stream between the Blob and the connection instead of workerd sending the Blob itself.
// Measured here (BENCH_ROWS=a, edge ÷ bare worker in one run): 1.00 → 0.80 at 1 MB, 1.35 → 0.62 at 200 KB
// with every hit in pieces. So only bodies above COUNTED_ABOVE_BYTES go in pieces; a smaller one goes out
// whole and is counted whole: of an aborted 1 MiB hit, 0.6 of the body was on the connection by the time
// the hang-up was seen (test/platform/playback-methods.test.ts, loopback), of an 8 MiB one 0.1.
/** Bodies larger than this are counted by what the connection took; smaller ones whole. */
export const COUNTED_ABOVE_BYTES = 2 * 1024 * 1024;
/** One piece: the error of the count on an abort is at most this (plus what the socket's buffers hold). */
export const PIECE_BYTES = 256 * 1024;

/** How far a body got: bytes the connection took. */
export interface Progress {
  sent: number;
}

/** Writes `blob` into `writable` a piece at a time, counting into `progress`; closes it at the end unless `close` is false. */
export async function pumpBlob(blob: Blob, writable: WritableStream<Uint8Array>, progress: Progress, close = true): Promise<void> {
  for (let at = 0; at < blob.size; at += PIECE_BYTES) {
    const piece = blob.slice(at, Math.min(blob.size, at + PIECE_BYTES));
    await piece.stream().pipeTo(writable, { preventClose: true });
    progress.sent += piece.size;
  }
  if (close) await writable.close();
}

/**
 * A response whose body is `blob`; `sent(bytes)` is told what the connection took once the body is done or
 * the viewer went away. Content-Length stays known (FixedLengthStream), as for a Blob body.
 */
export function countedBody(blob: Blob, init: ResponseInit, waitUntil: (p: Promise<unknown>) => void, sent: (bytes: number) => void): Response {
  const { readable, writable } = new FixedLengthStream(blob.size);
  const progress: Progress = { sent: 0 };
  const done = () => sent(progress.sent);
  waitUntil(pumpBlob(blob, writable, progress).then(done, done));
  return new Response(readable, init);
}
