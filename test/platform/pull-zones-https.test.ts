// A stadium node served over HTTPS by workerd's own TLS (--cert/--key): a CA made here, a certificate for
// 127.0.0.1 signed by it, and clients that trust that CA only. The node plays over HTTPS, the platform hands
// viewers its https:// address, plain HTTP on its port serves nothing, and a certificate that cannot serve the
// node's address is refused before the node registers.
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { chooseCache, listCaches, startNode, type RunningStadiumNode } from "../support/stadium-node";
import { openChannel, startSeededPlatform, type Platform } from "../support/platform";
import { httpsGet, makeTestCertificates, type TestCertificates } from "../support/tls";

let p: Platform;
let certs: TestCertificates;
let node: RunningStadiumNode;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uris = (text: string) => text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));

beforeAll(async () => {
  certs = makeTestCertificates({ ips: ["127.0.0.1"] });
  p = await startSeededPlatform({ edgeBindings: { PULL_ZONE_HEARTBEAT_SECONDS: "1" } });
  node = await startNode(p, "stand-https", { tls: certs });
});
afterAll(async () => {
  await node?.stop();
  await p?.stop();
  certs?.remove();
});

/** A GET in plain HTTP; resolves with the status, or rejects if no HTTP answer came. */
function plainGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end();
  });
}

it("answers /ping over HTTPS with a certificate its CA vouches for, and is announced at its https:// address", async () => {
  const port = new URL(node.url).port;
  expect(node.url).toBe(`https://127.0.0.1:${port}`);
  const ping = await httpsGet(`${node.url}/ping`, certs.caPem);
  expect(ping.status).toBe(200);
  expect(ping.protocol).toMatch(/^TLSv1\.[23]$/);
  expect(JSON.parse(ping.body.toString())).toMatchObject({ id: "stand-https", status: "ok" });
  // The same certificate, not trusted: Node's own CA list does not know the stadium's CA.
  await expect(httpsGet(`${node.url}/ping`)).rejects.toMatchObject({ code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/) });
  const listed = (await listCaches(p)).find((n) => n.id === "stand-https");
  expect(listed).toMatchObject({ baseUrl: `https://127.0.0.1:${port}`, healthy: true });
  expect(listed!.pingUrl.startsWith(`https://127.0.0.1:${port}/`)).toBe(true);
});

it("plays the node's pathway from the edge's multivariant over HTTPS: media playlist and segment, the same bytes as the edge's", async () => {
  const v = await openChannel(p, "main");
  expect((await chooseCache(p, v.sessionId, v.token, "stand-https")).status).toBe(200);
  await sleep(1100); // the edge's copy of the event's node list is at most a second old
  const multivariant = await (await fetch(v.playbackUrl)).text();
  const nodeVariants = uris(multivariant).filter((u) => u.startsWith(`${node.url}/play/${v.token}/`));
  expect(nodeVariants.length).toBeGreaterThan(0);

  const before = await node.stats();
  const media = await httpsGet(nodeVariants[0]!, certs.caPem);
  expect(media.status).toBe(200);
  expect(media.headers["content-type"]).toContain("mpegurl");
  const segment = uris(media.body.toString()).at(-1)!;
  expect(segment).not.toMatch(/^https?:/); // relative: it resolves against the node's https:// address
  const segmentUrl = new URL(segment, nodeVariants[0]!).toString();
  const onNode = await httpsGet(segmentUrl, certs.caPem);
  expect(onNode.status).toBe(200);
  expect(onNode.body.byteLength).toBeGreaterThan(1000);
  const onEdge = Buffer.from(await (await fetch(segmentUrl.replace(node.url, p.edgeUrl))).arrayBuffer());
  expect(onNode.body.equals(onEdge)).toBe(true);
  const after = await node.stats();
  expect(after.playlistRequests - before.playlistRequests).toBe(1);
  expect(after.segmentRequests - before.segmentRequests).toBe(1);
  expect(after.bytesServed - before.bytesServed).toBeGreaterThanOrEqual(onNode.body.byteLength);
});

it("serves nothing in plain HTTP on its port, and goes on serving HTTPS", async () => {
  const port = new URL(node.url).port;
  await expect(plainGet(`http://127.0.0.1:${port}/ping`)).rejects.toThrow();
  expect((await httpsGet(`${node.url}/ping`, certs.caPem)).status).toBe(200);
});

it("runs as two workerd processes on one HTTPS port", async () => {
  const two = await startNode(p, "stand-https-2", { tls: certs, processes: 2 });
  try {
    expect(two.processUrls.length).toBe(2);
    expect(two.url.startsWith("https://127.0.0.1:")).toBe(true);
    // A fresh connection each time: whichever process the kernel hands it to does the TLS handshake.
    for (let i = 0; i < 6; i++) expect((await httpsGet(`${two.url}/ping`, certs.caPem)).status).toBe(200);
    const v = await openChannel(p, "main");
    const variant = uris((await httpsGet(`${two.url}/play/${v.token}/index.m3u8`, certs.caPem)).body.toString())[0]!;
    expect((await httpsGet(`${two.url}/play/${v.token}/${variant}`, certs.caPem)).status).toBe(200);
  } finally {
    await two.stop();
  }
});

it("refuses, before registering, a key that is not the certificate's, a certificate that does not name the node's host, and an http:// base URL", async () => {
  const other = makeTestCertificates({ ips: ["127.0.0.1"] });
  const localhostOnly = makeTestCertificates({ dns: ["localhost"] });
  try {
    await expect(startNode(p, "stand-bad-key", { tls: { certFile: certs.certFile, keyFile: other.keyFile } })).rejects.toThrow(/does not belong to the certificate/);
    await expect(startNode(p, "stand-bad-name", { tls: localhostOnly })).rejects.toThrow(/does not name 127\.0\.0\.1/);
    await expect(startNode(p, "stand-bad-url", { tls: certs, baseUrl: "http://127.0.0.1:8443" })).rejects.toThrow(/must be https/);
    await expect(startNode(p, "stand-no-key", { tls: { certFile: certs.certFile, keyFile: "" } })).rejects.toThrow(/both a certificate and its private key/);
    await expect(startNode(p, "stand-missing", { tls: { certFile: certs.certFile, keyFile: `${certs.dir}/absent.key` } })).rejects.toThrow(/cannot read the private key/);
    // Provisioned (startNode does that first), never registered.
    const res = await fetch(`${p.edgeUrl}/api/v1/admin/pull-zones`, { headers: { authorization: `Bearer ${p.adminToken}` } });
    const listed = ((await res.json()) as { id: string; registered: boolean; baseUrl: string | null }[]).filter((n) => n.id.startsWith("stand-bad-") || n.id === "stand-no-key" || n.id === "stand-missing");
    expect(listed.map((n) => n.id).sort()).toEqual(["stand-bad-key", "stand-bad-name", "stand-bad-url", "stand-missing", "stand-no-key"]);
    for (const n of listed) expect(n).toMatchObject({ registered: false, baseUrl: null });
  } finally {
    other.remove();
    localhostOnly.remove();
  }
});
