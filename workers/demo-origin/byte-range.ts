// Single-range `Range: bytes=` handling for bodies the worker builds itself (static assets handle their own).

export type RangeResult = { start: number; end: number } | "unsatisfiable" | undefined;

/**
 * The one byte range `header` asks for within a body of `size` bytes (end inclusive), "unsatisfiable"
 * for a range past the end, or undefined to serve the whole body: no header, a malformed one, or several
 * ranges (RFC 9110 §14.2 lets a server ignore Range).
 */
export function parseRange(header: string | null, size: number): RangeResult {
  if (header === null) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size) return "unsatisfiable";
  if (end < start) return undefined;
  return { start, end };
}

/** A response for `body` honouring the request's Range header. */
export function rangedResponse(request: Request, body: Uint8Array, headers: Record<string, string>): Response {
  const size = body.byteLength;
  const range = parseRange(request.headers.get("range"), size);
  const base = { ...headers, "accept-ranges": "bytes" };
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { ...base, "content-range": `bytes */${size}` } });
  }
  if (range === undefined) {
    return new Response(body, { status: 200, headers: { ...base, "content-length": String(size) } });
  }
  const part = body.subarray(range.start, range.end + 1);
  return new Response(part, {
    status: 206,
    headers: { ...base, "content-length": String(part.byteLength), "content-range": `bytes ${range.start}-${range.end}/${size}` },
  });
}
