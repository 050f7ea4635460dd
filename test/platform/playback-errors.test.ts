// Errors a viewer or a broken origin can cause: each gets a clear status and the contract's error shape, never a 500 or a hang.
import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevVars } from "../../scripts/lib/dev-vars";
import { addChannel, openChannel, startSeededPlatform, type Platform } from "../support/platform";

let p: Platform;
beforeAll(async () => {
  p = await startSeededPlatform();
});
afterAll(async () => {
  await p?.stop();
});

const b64u = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function tokenWith(claims: Record<string, unknown>, key: { kid: string; d: string; x: string }): string {
  const payload = b64u(JSON.stringify({ v: 1, k: key.kid, ...claims }));
  const privateKey = { key: { kty: "OKP", crv: "Ed25519", x: key.x, d: key.d }, format: "jwk" as const };
  return `${payload}.${b64u(sign(null, Buffer.from(payload), privateKey))}`;
}

async function expectError(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(5);
}

describe("playback tokens", () => {
  const platformKey = () => JSON.parse(ensureDevVars().PLAYBACK_SIGNING_KEY!) as { kid: string; d: string; x: string };
  const future = () => Math.floor(Date.now() / 1000) + 3600;

  it("refuses a token signed by anyone but the platform with 403 invalid_token", async () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    const jwk = privateKey.export({ format: "jwk" }) as { d: string; x: string };
    const forged = tokenWith({ s: "ses_x", e: "demo", c: "main", x: future() }, { kid: platformKey().kid, ...jwk });
    await expectError(await fetch(`${p.edgeUrl}/play/${forged}/index.m3u8`), 403, "invalid_token");
  });

  it("refuses an expired token with 403 invalid_token", async () => {
    const expired = tokenWith({ s: "ses_x", e: "demo", c: "main", x: Math.floor(Date.now() / 1000) - 5 }, platformKey());
    await expectError(await fetch(`${p.edgeUrl}/play/${expired}/index.m3u8`), 403, "invalid_token");
  });

  it("refuses a token whose claims were edited to name another channel", async () => {
    const { token } = await openChannel(p, "main");
    const [payload, sig] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString());
    const edited = `${b64u(JSON.stringify({ ...claims, c: "premium" }))}.${sig}`;
    await expectError(await fetch(`${p.edgeUrl}/play/${edited}/index.m3u8`), 403, "invalid_token");
  });

  it("accepts a correctly signed token for the channel it names", async () => {
    const good = tokenWith({ s: "ses_y", e: "demo", c: "main", x: future() }, platformKey());
    expect((await fetch(`${p.edgeUrl}/play/${good}/index.m3u8`)).status).toBe(200);
  });

  it("answers garbage tokens and path tricks with 4xx, never 500", async () => {
    const { token } = await openChannel(p, "main");
    const paths = [
      "/play/",
      "/play/x",
      "/play/x/index.m3u8",
      "/play/a.b/index.m3u8",
      `/play/${"A".repeat(5000)}/index.m3u8`,
      `/play/${token}/`,
      `/play/${token}/../../api/v1/admin/events/demo`,
      `/play/${token}/%2e%2e/%2e%2e/etc/passwd`,
      `/play/${token}/ts-360p/..%2f..%2fsecret.ts`,
      `/play/${token}/_ext/file/etc/passwd`,
      `/play/${token}/_ext/http/evil.example/x.ts`,
      `/play/${token}/_ext/http/127.0.0.1:1/x.ts`,
      `/play/${token}/ts-360p\\..\\x.ts`,
      `/play/${token}/%00.ts`,
      `/play/${token}/nope/does-not-exist.ts`,
    ];
    for (const path of paths) {
      const res = await fetch(p.edgeUrl + path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      const body = (await res.json()) as { error?: { code: string } };
      expect(body.error?.code, path).toMatch(/^[a-z_]+$/);
    }
  });
});

describe("a broken origin", () => {
  const open = async (id: string, path: string) => {
    await addChannel(p, id, p.originUrl + path);
    return (await openChannel(p, id)).playbackUrl;
  };

  it("gives 502 origin_error when the origin answers 503", async () => {
    await expectError(await fetch(await open("down", "/status/503/live/index.m3u8")), 502, "origin_error");
  });

  it("gives 504 origin_timeout within bounded time when the origin never answers", async () => {
    const url = await open("hang", "/hang/live/index.m3u8");
    const started = Date.now();
    await expectError(await fetch(url), 504, "origin_timeout");
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("gives 502 bad_origin_playlist for something that is not a playlist", async () => {
    await expectError(await fetch(await open("html", "/broken/not-a-playlist.m3u8")), 502, "bad_origin_playlist");
  });

  it("gives 502 bad_origin_playlist for a media playlist without a target duration", async () => {
    await expectError(await fetch(await open("notd", "/broken/no-targetduration.m3u8")), 502, "bad_origin_playlist");
  });

  it("refuses a playlist whose segment lives on a host outside the channel, without fetching it", async () => {
    await expectError(await fetch(await open("foreign", "/broken/foreign-segment.m3u8")), 502, "bad_origin_playlist");
  });

  it("gives 404 for a segment the origin does not have", async () => {
    const url = (await open("gone", "/live/gone/index.m3u8")).replace("index.m3u8", "no-such-rendition/seg-1.ts");
    await expectError(await fetch(url), 404, "not_found");
  });
});

describe("segments for browser players", () => {
  it("honours Range with 206 and the right bytes, and sends CORS and cache headers", async () => {
    const { playbackUrl } = await openChannel(p, "main");
    const seg = playbackUrl.replace("index.m3u8", `ts-360p/seg-${Math.floor(Date.now() / 2000) - 3}.ts`);
    const whole = Buffer.from(await (await fetch(seg)).arrayBuffer());
    const res = await fetch(seg, { headers: { range: "bytes=188-375" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 188-375/${whole.byteLength}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(whole.subarray(188, 376))).toBe(true);
    const again = await fetch(seg);
    expect(again.headers.get("access-control-allow-origin")).toBe("*");
    expect(again.headers.get("content-type")).toBe("video/mp2t");
    expect(again.headers.get("cache-control")).toContain("max-age=");
    expect(again.headers.get("x-cache")).toBe("HIT");
    await again.arrayBuffer();
  });
});
