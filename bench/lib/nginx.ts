// nginx proxy_cache (2 workers, cache lock on) in front of the demo origin: the reference the edge's figures are compared to.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onCleanup } from "./cleanup";
import { freePort, waitForPort } from "./net";

export interface RunningNginx {
  url: string;
  /** The same server and cache over HTTPS, when started with a certificate. */
  tlsUrl?: string;
  conf: string;
  stop(): Promise<void>;
}

/** The nginx binary on PATH (or in /usr/sbin), or null. */
export function findNginx(): string | null {
  const r = spawnSync("sh", ["-c", "command -v nginx || ls /usr/sbin/nginx 2>/dev/null"], { encoding: "utf8" });
  const bin = r.stdout.trim().split("\n")[0];
  return r.status === 0 && bin ? bin : null;
}

/** PEM files for an HTTPS listener beside the plain one (the stadium node's HTTPS rows use the same certificate). */
export interface NginxTls {
  certFile: string;
  keyFile: string;
}

function config(dir: string, port: number, originPort: number, tls?: NginxTls & { port: number }): string {
  // Workers run as the invoking user when that is root; otherwise nginx cannot change user and keeps ours.
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  return `# Written by bench/lib/nginx.ts for one benchmark run.
${user}worker_processes 2;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 100000;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=bench:32m max_size=2g inactive=10m use_temp_path=off;
  upstream origin {
    server 127.0.0.1:${originPort};
    keepalive 32;
  }
  server {
    listen 127.0.0.1:${port};${tls ? `
    listen 127.0.0.1:${tls.port} ssl;
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;` : ""}
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache bench;
      proxy_cache_key $uri;
      proxy_cache_lock on;
      proxy_cache_valid 200 10m;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
}

/** Starts nginx as a child process (daemon off) on a free port in front of `originPort`. */
export async function startNginx(bin: string, originPort: number, tls?: NginxTls): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), "balancer-bench-nginx-"));
  mkdirSync(join(dir, "tmp"));
  const port = await freePort();
  const tlsPort = tls ? await freePort() : 0;
  const conf = config(dir, port, originPort, tls ? { ...tls, port: tlsPort } : undefined);
  writeFileSync(join(dir, "nginx.conf"), conf);
  const child = spawn(bin, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = onCleanup(`nginx ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM"); // fast shutdown of master and workers
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  }, () => {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await Promise.race([
      waitForPort(port, 10_000),
      exited.then(() => {
        let log = "";
        try {
          log = readFileSync(join(dir, "error.log"), "utf8");
        } catch {
          // no log written
        }
        throw new Error(`nginx exited at startup: ${stderr}${log}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, ...(tls ? { tlsUrl: `https://127.0.0.1:${tlsPort}` } : {}), conf, stop };
}
