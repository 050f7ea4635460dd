// Baseline for the benchmark: a worker that only returns a segment-sized body from isolate memory
// (GET /<bytes>), so the table shows the runtime's own ceiling beside the edge's full hit path. The body is a
// Blob, as the edge stores its hits: workerd sends a Blob without copying it.
const bodies = new Map();

export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    // What the node's process launcher waits for before it counts a process as started (bench row g).
    if (path === "/ping") return new Response("ok");
    const size = Number(path.slice(1));
    if (!Number.isSafeInteger(size) || size < 1 || size > 8 * 1024 * 1024) return new Response("bad size", { status: 400 });
    let body = bodies.get(size);
    if (!body) {
      body = new Blob([new Uint8Array(size).fill(0xff)]);
      bodies.set(size, body);
    }
    return new Response(body, { headers: { "content-type": "video/mp2t", "content-length": String(size), "x-cache": "HIT" } });
  },
};
