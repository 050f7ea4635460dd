// A throwaway certificate authority and a server certificate signed by it, made with the openssl CLI, for tests
// that serve a stadium node over HTTPS and trust only this CA. Plus an HTTPS GET that trusts only a given CA.
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  /** The CA's certificate (PEM): the only thing a test client trusts. */
  caPem: string;
  /** The server's certificate and private key (PEM files), for `--cert` / `--key`. */
  certFile: string;
  keyFile: string;
  /** Base64 SHA-256 of the server certificate's SubjectPublicKeyInfo: Chromium's --ignore-certificate-errors-spki-list. */
  spkiSha256: string;
  /** The folder holding the files. */
  dir: string;
  remove(): void;
}

const openssl = (dir: string, args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });

/** A CA and a server certificate (ECDSA P-256, valid 30 days) for the given IP addresses and DNS names. */
export function makeTestCertificates(names: { ips?: string[]; dns?: string[] } = { ips: ["127.0.0.1"] }): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "balancer-tls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=Balancer test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
  const first = names.ips?.[0] ?? names.dns?.[0] ?? "127.0.0.1";
  openssl(dir, ["req", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${first}`]);
  const san = [...(names.ips ?? []).map((ip) => `IP:${ip}`), ...(names.dns ?? []).map((d) => `DNS:${d}`)].join(",");
  writeFileSync(join(dir, "server.ext"), `subjectAltName=${san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`);
  openssl(dir, ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-extfile", "server.ext", "-out", "server.pem"]);
  const certFile = join(dir, "server.pem");
  const spki = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: "spki", format: "der" });
  return {
    caPem: readFileSync(join(dir, "ca.pem"), "utf8"),
    certFile,
    keyFile: join(dir, "server.key"),
    spkiSha256: createHash("sha256").update(spki).digest("base64"),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The TLS protocol the connection used (e.g. TLSv1.3). */
  protocol: string | null;
}

/** GET over HTTPS trusting only `ca` (none: Node's built-in CA list); a fresh connection each time. */
export function httpsGet(url: string, ca?: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, timeout: 10_000 }, (res) => {
      const protocol = (res.socket as { getProtocol?: () => string | null }).getProtocol?.() ?? null;
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), protocol }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    req.end();
  });
}
