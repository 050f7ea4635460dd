// Going live: checks a deploy configuration and its secrets against the committed dev values and the
// Cloudflare account, creates the KV namespaces it lacks, writes the wrangler config it deploys with.
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { execFile, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { z } from "zod";
import { parseDotenv } from "./dev-vars";
import { generatePlaybackKeys } from "./keys";

/** Secrets the edge reads and Cloudflare keeps write-only. */
export const SECRET_NAMES = ["ADMIN_TOKEN", "VIEWER_TOKEN_SECRET", "PLAYBACK_SIGNING_KEY"] as const;
type SecretName = (typeof SECRET_NAMES)[number];
/** Public keys: deployed as a var (a secret of the same name would clash with it), checked like a secret. */
export const VERIFY_KEYS = "PLAYBACK_VERIFY_KEYS";
const GIVEN_NAMES = [...SECRET_NAMES, VERIFY_KEYS] as const;

// The key shapes the edge accepts (workers/shared/playback/token.ts; that file is typed for workerd, not Node).
const VerifyKeySchema = z.object({ kid: z.string().min(1).max(32), x: z.string().min(40).max(50) });
const SigningKeySchema = VerifyKeySchema.extend({ d: z.string().min(40).max(50) });
const parseSigningKey = (json: string) => SigningKeySchema.parse(JSON.parse(json));
const parseVerifyKeys = (json: string) => z.array(VerifyKeySchema).max(16).parse(JSON.parse(json));

// The shortest values the edge itself accepts (workers/edge/config.ts, workers/edge/accounts/config.ts).
const MIN_LENGTH: Record<"ADMIN_TOKEN" | "VIEWER_TOKEN_SECRET", number> = { ADMIN_TOKEN: 16, VIEWER_TOKEN_SECRET: 32 };

/** The operator's deploy configuration (JSON, kept out of the repository); `kvNamespaces` is filled in by the script. */
export const DeployConfigSchema = z.strictObject({
  /** Worker name on Cloudflare; default: `name` in wrangler.toml. */
  worker: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/).optional(),
  /** Where viewers reach the edge: a custom domain, or a route in a zone on the account. */
  routes: z
    .array(
      z.union([
        z.strictObject({ pattern: z.string().min(1), custom_domain: z.literal(true) }),
        z.strictObject({ pattern: z.string().min(1), zone_name: z.string().min(1) }),
      ]),
    )
    .default([]),
  /** A .dev.vars-style file with the production secrets, relative to this file. */
  secretsFile: z.string().min(1).optional(),
  /** KV namespace id per binding of wrangler.toml. */
  kvNamespaces: z.record(z.string(), z.string()).default({}),
});
export type DeployConfig = z.infer<typeof DeployConfigSchema>;

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How the script reaches wrangler: tests replace the account side, which needs a Cloudflare login. */
export interface Wrangler {
  /** Account-side reads and writes (`kv namespace list|create`, `secret list`), output captured. */
  account(args: string[]): Promise<CommandResult>;
  /** `wrangler deploy …`, output shown; resolves to its exit code. */
  deploy(args: string[]): Promise<number>;
}

const WRANGLER_BIN = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");

function run(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<CommandResult> {
  return new Promise((done) => {
    execFile(file, args, { env, cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Wrangler from node_modules. `accountCommand`, when given, is an executable that answers the account-side
 * commands instead (BALANCER_DEPLOY_ACCOUNT_WRANGLER; the tests' stand-in for a Cloudflare account).
 */
export function localWrangler(root: string, env: NodeJS.ProcessEnv, accountCommand?: string): Wrangler {
  return {
    account: (args) =>
      accountCommand ? run(accountCommand, args, env, root) : run(process.execPath, [WRANGLER_BIN, ...args], env, root),
    deploy: (args) =>
      new Promise((done) => {
        const child = spawn(process.execPath, [WRANGLER_BIN, ...args], { env, cwd: root, stdio: "inherit" });
        child.on("exit", (code) => done(code ?? 1));
        child.on("error", () => done(1));
      }),
  };
}

/** A refusal: every problem found, so the operator fixes them in one go. */
export class DeployRefused extends Error {
  constructor(readonly problems: string[]) {
    super(`refusing to deploy:\n  - ${problems.join("\n  - ")}`);
  }
}

/** KV bindings and their ids as committed in wrangler.toml (the dev placeholders). */
export function committedKvIds(wranglerToml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of wranglerToml.split(/^\[\[kv_namespaces\]\]\s*$/m).slice(1)) {
    const body = block.split(/^\[/m)[0]!;
    const binding = /^binding\s*=\s*"([^"]+)"/m.exec(body)?.[1];
    const id = /^id\s*=\s*"([^"]*)"/m.exec(body)?.[1];
    if (binding && id !== undefined) out.set(binding, id);
  }
  return out;
}

/** Values that must never reach production: the committed ones and this checkout's .dev.vars. */
export interface DevValues {
  kvIds: Set<string>;
  /** Secret values by name (.dev.vars.example's ADMIN_TOKEN, and everything in .dev.vars). */
  secrets: Map<string, Set<string>>;
  /** Public halves (`x`) of dev playback keys. */
  playbackKeys: Set<string>;
}

/** Collects the dev values of a checkout: wrangler.toml's KV ids, .dev.vars.example, and .dev.vars if present. */
export function devValues(root: string, devVarsPath = join(root, ".dev.vars")): DevValues {
  const values: DevValues = {
    kvIds: new Set(committedKvIds(readFileSync(join(root, "wrangler.toml"), "utf8")).values()),
    secrets: new Map(),
    playbackKeys: new Set(),
  };
  const files = [join(root, ".dev.vars.example"), devVarsPath].filter((path) => existsSync(path));
  for (const file of files) {
    for (const [name, value] of Object.entries(parseDotenv(readFileSync(file, "utf8")))) {
      if (value === "__GENERATED__" || value === "") continue;
      if (!values.secrets.has(name)) values.secrets.set(name, new Set());
      values.secrets.get(name)!.add(value);
      if (name === "PLAYBACK_SIGNING_KEY" || name === VERIFY_KEYS) {
        try {
          const keys: unknown = JSON.parse(value);
          for (const key of Array.isArray(keys) ? keys : [keys]) {
            if (key && typeof key === "object" && typeof (key as { x?: unknown }).x === "string") values.playbackKeys.add((key as { x: string }).x);
          }
        } catch {
          // A malformed dev key is no key: nothing to compare against.
        }
      }
    }
  }
  return values;
}

/** The playback pair's problems: each must parse, the private key must give its own public half, the verify keys must hold it. */
export function checkPlaybackKeys(signingJson: string, verifyJson: string, dev: DevValues): string[] {
  const problems: string[] = [];
  let signing;
  let verify;
  try {
    signing = parseSigningKey(signingJson);
  } catch {
    problems.push("PLAYBACK_SIGNING_KEY is not a signing key: expected JSON {kid, x, d} (see docs/deploy.md, `npm run deploy -- --new-secrets`)");
  }
  try {
    verify = parseVerifyKeys(verifyJson);
    if (verify.length === 0) problems.push("PLAYBACK_VERIFY_KEYS is empty: it must hold the public half of PLAYBACK_SIGNING_KEY");
  } catch {
    problems.push("PLAYBACK_VERIFY_KEYS is not a list of verify keys: expected JSON [{kid, x}, …]");
  }
  if (signing) {
    let derived: string | undefined;
    try {
      const priv = createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: signing.d, x: signing.x }, format: "jwk" });
      derived = (createPublicKey(priv).export({ format: "jwk" }) as { x?: string }).x;
    } catch {
      // Reported just below: a `d` Node cannot import signs nothing.
    }
    if (derived !== signing.x) problems.push("PLAYBACK_SIGNING_KEY's public half `x` does not belong to its private key `d`");
    if (dev.playbackKeys.has(signing.x)) problems.push("PLAYBACK_SIGNING_KEY is this checkout's dev key (.dev.vars): make a production pair");
    if (verify && !verify.some((k) => k.kid === signing.kid && k.x === signing.x)) {
      problems.push(`PLAYBACK_VERIFY_KEYS does not hold the public half of PLAYBACK_SIGNING_KEY (kid ${signing.kid}): tokens it signs would not verify`);
    }
  }
  for (const key of verify ?? []) {
    if (dev.playbackKeys.has(key.x)) problems.push(`PLAYBACK_VERIFY_KEYS holds a dev key (kid ${key.kid}, from .dev.vars): tokens signed on a laptop would play in production`);
  }
  return problems;
}

/** Problems of the values given locally that need no account: dev values, lengths, the playback pair. */
export function checkGivenValues(given: Partial<Record<string, string>>, dev: DevValues): string[] {
  const problems: string[] = [];
  for (const name of GIVEN_NAMES) {
    const value = given[name];
    if (value !== undefined && dev.secrets.get(name)?.has(value)) {
      problems.push(`${name} is the committed or local dev value (.dev.vars.example / .dev.vars): production needs its own`);
    }
  }
  for (const name of ["ADMIN_TOKEN", "VIEWER_TOKEN_SECRET"] as const) {
    const value = given[name];
    if (value !== undefined && value.length < MIN_LENGTH[name]) problems.push(`${name} is shorter than the ${MIN_LENGTH[name]} characters the edge accepts`);
  }
  const signing = given.PLAYBACK_SIGNING_KEY;
  const verify = given[VERIFY_KEYS];
  // Cloudflare never returns a secret's value, so the pair can only be compared when both are given here.
  if (signing === undefined) problems.push("PLAYBACK_SIGNING_KEY is not given (secrets file or environment): the script must read it to check it against PLAYBACK_VERIFY_KEYS");
  if (verify === undefined) problems.push("PLAYBACK_VERIFY_KEYS is not given (secrets file or environment): it is deployed as a var and must match PLAYBACK_SIGNING_KEY");
  if (signing !== undefined && verify !== undefined) problems.push(...checkPlaybackKeys(signing, verify, dev));
  return problems;
}

/** A fresh set of production values in .dev.vars form (`npm run deploy -- --new-secrets <file>`). */
export function newSecretsFile(): string {
  const keys = generatePlaybackKeys();
  return [
    "# Balancer production secrets: keep this file out of the repository, readable by you only.",
    `ADMIN_TOKEN=${randomBytes(24).toString("base64url")}`,
    `VIEWER_TOKEN_SECRET=${randomBytes(32).toString("base64url")}`,
    `PLAYBACK_SIGNING_KEY='${JSON.stringify(keys.signingKey)}'`,
    `PLAYBACK_VERIFY_KEYS='${JSON.stringify(keys.verifyKeys)}'`,
    "",
  ].join("\n");
}

/** The JSON array wrangler prints, after any warning lines before it. */
function parseJsonOutput(stdout: string, what: string): unknown {
  const start = stdout.indexOf("[");
  try {
    return JSON.parse(stdout.slice(start));
  } catch {
    throw new Error(`could not read the output of \`wrangler ${what}\`:\n${stdout}`);
  }
}

const KvListSchema = z.array(z.object({ id: z.string(), title: z.string() }).loose());
const SecretListSchema = z.array(z.object({ name: z.string() }).loose());

async function listNamespaces(wrangler: Wrangler, baseConfig: string): Promise<{ id: string; title: string }[]> {
  const result = await wrangler.account(["kv", "namespace", "list", "-c", baseConfig]);
  if (result.code !== 0) throw new Error(`\`wrangler kv namespace list\` failed (logged in? \`wrangler login\`):\n${result.stderr || result.stdout}`);
  return KvListSchema.parse(parseJsonOutput(result.stdout, "kv namespace list"));
}

/** Secret names set on the worker; none when the worker was never deployed. */
async function listSecrets(wrangler: Wrangler, baseConfig: string, worker: string): Promise<Set<string>> {
  const result = await wrangler.account(["secret", "list", "--format", "json", "--name", worker, "-c", baseConfig]);
  if (result.code !== 0) {
    if (/not found/i.test(result.stderr + result.stdout)) return new Set();
    throw new Error(`\`wrangler secret list\` failed (logged in? \`wrangler login\`):\n${result.stderr || result.stdout}`);
  }
  return new Set(SecretListSchema.parse(parseJsonOutput(result.stdout, "secret list")).map((s) => s.name));
}

/** A TOML basic string: JSON's escapes are TOML's for these values. */
const tomlString = (value: string): string => JSON.stringify(value);

/**
 * The wrangler config that is deployed: wrangler.toml with the real KV ids, the production verify keys,
 * the worker name, the routes, and absolute paths (it is written beside the deploy configuration).
 */
export function deployWranglerToml(
  base: string,
  root: string,
  options: { worker: string; kvIds: Map<string, string>; verifyKeys: string; routes: DeployConfig["routes"] },
): string {
  let text = base
    .replace(/^name\s*=\s*"[^"]*"/m, `name = ${tomlString(options.worker)}`)
    .replace(/^main\s*=\s*"([^"]*)"/m, (_, main: string) => `main = ${tomlString(resolve(root, main))}`)
    .replace(/^directory\s*=\s*"([^"]*)"/m, (_, dir: string) => `directory = ${tomlString(resolve(root, dir))}`)
    .replace(/^PLAYBACK_VERIFY_KEYS\s*=\s*"(?:[^"\\]|\\.)*"/m, `PLAYBACK_VERIFY_KEYS = ${tomlString(options.verifyKeys)}`);
  text = text.replace(/^(\[\[kv_namespaces\]\]\s*\n(?:(?!\[).*\n)*)/gm, (block: string) => {
    const binding = /^binding\s*=\s*"([^"]+)"/m.exec(block)?.[1];
    const id = binding ? options.kvIds.get(binding) : undefined;
    return id ? block.replace(/^id\s*=\s*"[^"]*"/m, `id = ${tomlString(id)}`) : block;
  });
  if (options.routes.length > 0) {
    const routes = options.routes.map((r) =>
      "custom_domain" in r
        ? `{ pattern = ${tomlString(r.pattern)}, custom_domain = true }`
        : `{ pattern = ${tomlString(r.pattern)}, zone_name = ${tomlString(r.zone_name)} }`,
    );
    // Top-level keys must come before the first table (and above the comment that introduces it).
    const firstTable = text.search(/^(?:#[^\n]*\n)*\[/m);
    const line = `# Where viewers reach the edge (from the deploy configuration).\nroutes = [${routes.join(", ")}]\n\n`;
    text = firstTable < 0 ? text + "\n" + line : text.slice(0, firstTable) + line + text.slice(firstTable);
  }
  return "# Generated by `npm run deploy` from wrangler.toml and the deploy configuration; do not edit or commit.\n" + text;
}

export interface DeployOptions {
  root: string;
  /** The operator's deploy configuration (JSON). */
  configPath: string;
  /** Overrides the configuration's `secretsFile`. */
  secretsPath?: string;
  /** Check, create nothing, and bundle into `outdir` instead of deploying. */
  dryRun: boolean;
  outdir?: string;
  /** Where ADMIN_TOKEN and the others may also come from (CI); the values win over the secrets file. */
  env: NodeJS.ProcessEnv;
  devVarsPath?: string;
  wrangler: Wrangler;
  /** Builds the pages' scripts into public/js before the bundle. */
  buildWeb(): void;
  log(line: string): void;
}

/** Runs the whole deployment; throws DeployRefused (nothing created, nothing deployed) when a check fails. Resolves to wrangler's exit code. */
export async function deploy(options: DeployOptions): Promise<number> {
  const { root, wrangler, log } = options;
  const configPath = resolve(options.configPath);
  if (!existsSync(configPath)) {
    throw new DeployRefused([`no deploy configuration at ${configPath}: write one as docs/deploy.md shows`]);
  }
  const rawConfig: unknown = JSON.parse(readFileSync(configPath, "utf8"));
  const parsedConfig = DeployConfigSchema.safeParse(rawConfig);
  if (!parsedConfig.success) {
    throw new DeployRefused([`${configPath} is not a deploy configuration: ${z.prettifyError(parsedConfig.error)}`]);
  }
  const config = parsedConfig.data;
  const baseConfig = join(root, "wrangler.toml");
  const baseText = readFileSync(baseConfig, "utf8");
  const worker = config.worker ?? /^name\s*=\s*"([^"]+)"/m.exec(baseText)?.[1] ?? "balancer-edge";
  const bindings = [...committedKvIds(baseText).keys()];
  const dev = devValues(root, options.devVarsPath);
  const problems: string[] = [];

  // Values given here: the secrets file, then the environment.
  const given: Partial<Record<string, string>> = {};
  const secretsPath = options.secretsPath ?? (config.secretsFile ? resolve(dirname(configPath), config.secretsFile) : undefined);
  if (secretsPath) {
    if (!existsSync(secretsPath)) problems.push(`secrets file ${secretsPath} does not exist`);
    else {
      const vars = parseDotenv(readFileSync(secretsPath, "utf8"));
      for (const name of GIVEN_NAMES) if (vars[name]) given[name] = vars[name];
    }
  }
  for (const name of GIVEN_NAMES) if (options.env[name]) given[name] = options.env[name];
  problems.push(...checkGivenValues(given, dev));

  for (const [binding, id] of Object.entries(config.kvNamespaces)) {
    if (!bindings.includes(binding)) problems.push(`kvNamespaces.${binding}: wrangler.toml has no such KV binding (${bindings.join(", ")})`);
    else if (dev.kvIds.has(id)) problems.push(`kvNamespaces.${binding} is the committed dev placeholder "${id}", not a namespace of the account`);
    else if (!/^[0-9a-f]{32}$/.test(id)) problems.push(`kvNamespaces.${binding} = "${id}" is not a KV namespace id (32 hex digits)`);
  }
  for (const route of config.routes) {
    if (/(^|\.)balancer\.example(\/|$)/.test(route.pattern)) problems.push(`route ${route.pattern} is the documentation's example domain`);
  }

  // The account: which namespaces exist, which secrets the worker already has.
  const namespaces = await listNamespaces(wrangler, baseConfig);
  const onAccount = await listSecrets(wrangler, baseConfig, worker);
  for (const name of ["ADMIN_TOKEN", "VIEWER_TOKEN_SECRET"] as const satisfies readonly SecretName[]) {
    if (given[name] === undefined && !onAccount.has(name)) {
      problems.push(`${name} is missing: not in the secrets file or the environment, and worker ${worker} has no such secret (wrangler secret list)`);
    }
  }
  if (onAccount.has(VERIFY_KEYS)) {
    problems.push(`worker ${worker} has a secret ${VERIFY_KEYS}; it is a var here and the two would clash: \`wrangler secret delete ${VERIFY_KEYS} --name ${worker}\``);
  }
  const kvIds = new Map<string, string>();
  const toCreate: string[] = [];
  for (const binding of bindings) {
    const id = config.kvNamespaces[binding];
    const title = `${worker}-${binding}`;
    if (id !== undefined) {
      if (!namespaces.some((ns) => ns.id === id) && !problems.some((p) => p.startsWith(`kvNamespaces.${binding}`))) {
        problems.push(`kvNamespaces.${binding} = ${id} is not a KV namespace of this account (wrangler kv namespace list)`);
      }
      kvIds.set(binding, id);
    } else {
      const existing = namespaces.find((ns) => ns.title === title);
      if (existing) kvIds.set(binding, existing.id);
      else toCreate.push(binding);
    }
  }
  if (problems.length > 0) throw new DeployRefused(problems);

  // Every check passed: from here on the account changes (or, in a dry run, would).
  for (const binding of toCreate) {
    const title = `${worker}-${binding}`;
    if (options.dryRun) {
      log(`dry run: would create KV namespace ${title} for ${binding}`);
      kvIds.set(binding, "0".repeat(32));
      continue;
    }
    log(`creating KV namespace ${title} for ${binding}`);
    const result = await wrangler.account(["kv", "namespace", "create", title, "-c", baseConfig]);
    if (result.code !== 0) throw new Error(`\`wrangler kv namespace create ${title}\` failed:\n${result.stderr || result.stdout}`);
    const created = (await listNamespaces(wrangler, baseConfig)).find((ns) => ns.title === title);
    if (!created) throw new Error(`KV namespace ${title} was created but is not in \`wrangler kv namespace list\``);
    kvIds.set(binding, created.id);
  }
  if (!options.dryRun) {
    const ids = Object.fromEntries(bindings.map((b) => [b, kvIds.get(b)!]));
    if (JSON.stringify(ids) !== JSON.stringify(config.kvNamespaces)) {
      writeFileSync(configPath, JSON.stringify({ ...(rawConfig as object), kvNamespaces: ids }, null, 2) + "\n");
      log(`KV namespace ids written to ${configPath}`);
    }
  }

  const generated = join(dirname(configPath), `${basename(configPath).replace(/\.json$/, "")}.wrangler.toml`);
  writeFileSync(generated, deployWranglerToml(baseText, root, { worker, kvIds, verifyKeys: given[VERIFY_KEYS]!, routes: config.routes }));
  options.buildWeb();

  // Secrets given here travel with the deployment; secrets only on the account are kept (--secrets-file keeps the rest).
  const upload = Object.fromEntries(SECRET_NAMES.filter((n) => given[n] !== undefined).map((n) => [n, given[n]!]));
  const secretsFile = join(tmpdir(), `balancer-secrets-${process.pid}-${randomBytes(4).toString("hex")}.json`);
  writeFileSync(secretsFile, JSON.stringify(upload), { mode: 0o600 });
  try {
    const args = ["deploy", "-c", generated, "--secrets-file", secretsFile];
    if (options.dryRun) args.push("--dry-run", "--outdir", options.outdir ?? join(tmpdir(), `balancer-deploy-${process.pid}`));
    log(`${options.dryRun ? "dry run: bundling" : "deploying"} ${worker} with ${generated}`);
    const code = await wrangler.deploy(args);
    if (code === 0 && !options.dryRun) {
      log(`deployed. Platform URL for stadium nodes (--platform) and viewers: ${platformUrls(config, worker).join(", ")}`);
    }
    return code;
  } finally {
    rmSync(secretsFile, { force: true });
  }
}

/** Where stadium nodes and viewers reach the platform once deployed. */
export function platformUrls(config: DeployConfig, worker: string): string[] {
  const urls = config.routes.map((r) => `https://${r.pattern.replace(/\/\*?$/, "").replace(/\*$/, "")}`);
  return urls.length > 0 ? urls : [`https://${worker}.<your-subdomain>.workers.dev`];
}
