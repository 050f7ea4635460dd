// `npm run deploy` against wrangler's real dry run, with a stand-in for the Cloudflare account (no login here).
import { execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseDotenv, ROOT } from "../../scripts/lib/dev-vars.ts";
import { checkGivenValues, deploy, devValues, newSecretsFile, type Wrangler } from "../../scripts/lib/deploy.ts";
import { generatePlaybackKeys } from "../../scripts/lib/keys.ts";

const TSX = join(ROOT, "node_modules/tsx/dist/cli.mjs");
const KV_CATALOG = "c".repeat(32);
const KV_ACCOUNTS = "a".repeat(32);

// The account's side of wrangler: answers as wrangler prints (`kv namespace list` and `secret list --format json`
// print JSON arrays), from a state file the test writes, and records every call.
const FAKE_ACCOUNT = `#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
const path = process.env.FAKE_ACCOUNT_STATE;
const state = JSON.parse(readFileSync(path, "utf8"));
const args = process.argv.slice(2);
state.calls.push(args.join(" "));
writeFileSync(path, JSON.stringify(state));
if (args[0] === "kv" && args[2] === "list") console.log(JSON.stringify(state.namespaces, null, "  "));
else if (args[0] === "secret" && args[1] === "list") console.log(JSON.stringify(state.secrets.map((name) => ({ name, type: "secret_text" })), null, "  "));
else { console.error("the fake account does not do: " + args.join(" ")); process.exit(2); }
`;

interface AccountState {
  calls: string[];
  namespaces: { id: string; title: string }[];
  secrets: string[];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "balancer-deploy-test-"));
  writeFileSync(join(dir, "fake-account.mjs"), FAKE_ACCOUNT);
  chmodSync(join(dir, "fake-account.mjs"), 0o755);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function account(state: Partial<AccountState>): void {
  const full: AccountState = {
    calls: [],
    namespaces: [
      { id: KV_CATALOG, title: "balancer-edge-CATALOG" },
      { id: KV_ACCOUNTS, title: "balancer-edge-ACCOUNTS" },
    ],
    secrets: [],
    ...state,
  };
  writeFileSync(join(dir, "account.json"), JSON.stringify(full));
}
const accountCalls = (): string[] => (JSON.parse(readFileSync(join(dir, "account.json"), "utf8")) as AccountState).calls;

/** A production secrets file as `--new-secrets` writes it, minus `drop`, with `replace` applied. */
function secrets(drop: string[] = [], replace: Record<string, string> = {}): Record<string, string> {
  const vars = { ...parseDotenv(newSecretsFile()), ...replace };
  for (const name of drop) delete vars[name];
  writeFileSync(join(dir, "production.env"), Object.entries(vars).map(([k, v]) => `${k}='${v}'`).join("\n") + "\n");
  return vars;
}

function config(extra: Record<string, unknown> = {}): string {
  const path = join(dir, "deploy.json");
  const body = { routes: [{ pattern: "live.stadium.test", custom_domain: true }], secretsFile: "production.env", kvNamespaces: { CATALOG: KV_CATALOG, ACCOUNTS: KV_ACCOUNTS }, ...extra };
  writeFileSync(path, JSON.stringify(body, null, 2));
  return path;
}

/** `npm run deploy -- --dry-run`, as a process: exit code and everything it printed. */
function runDeploy(configPath: string): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, BALANCER_DEPLOY_ACCOUNT_WRANGLER: join(dir, "fake-account.mjs"), FAKE_ACCOUNT_STATE: join(dir, "account.json") };
  for (const name of ["ADMIN_TOKEN", "VIEWER_TOKEN_SECRET", "PLAYBACK_SIGNING_KEY", "PLAYBACK_VERIFY_KEYS"]) delete env[name];
  return new Promise((done) => {
    execFile(
      process.execPath,
      [TSX, join(ROOT, "scripts/deploy.ts"), "--config", configPath, "--dry-run", "--outdir", join(dir, "out")],
      { env, cwd: ROOT, timeout: 90_000 },
      (error, stdout, stderr) => done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

const bundled = (): boolean => existsSync(join(dir, "out")) && readdirSync(join(dir, "out")).includes("index.js");

describe("npm run deploy --dry-run", { timeout: 120_000 }, () => {
  it("refuses a configuration lacking a secret, naming it, and deploys nothing", async () => {
    account({ secrets: [] });
    secrets(["VIEWER_TOKEN_SECRET"]);
    const { code, output } = await runDeploy(config());
    expect(code).not.toBe(0);
    expect(output).toContain("refusing to deploy");
    expect(output).toMatch(/VIEWER_TOKEN_SECRET is missing/);
    expect(bundled()).toBe(false);
    expect(existsSync(join(dir, "deploy.wrangler.toml"))).toBe(false);
    expect(accountCalls().filter((c) => !c.includes(" list"))).toEqual([]);
  });

  it("refuses a configuration without the signing key, since only a key it can read can be checked against the verify keys", async () => {
    account({ secrets: ["ADMIN_TOKEN", "VIEWER_TOKEN_SECRET", "PLAYBACK_SIGNING_KEY"] });
    secrets(["PLAYBACK_SIGNING_KEY"]);
    const { code, output } = await runDeploy(config());
    expect(code).not.toBe(0);
    expect(output).toMatch(/PLAYBACK_SIGNING_KEY is not given/);
    expect(bundled()).toBe(false);
  });

  it("refuses the committed dev values: the placeholder KV id and the dev admin token", async () => {
    account({});
    secrets([], { ADMIN_TOKEN: "dev-admin-token-0123456789" });
    const { code, output } = await runDeploy(config({ kvNamespaces: { CATALOG: "balancer-catalog", ACCOUNTS: KV_ACCOUNTS } }));
    expect(code).not.toBe(0);
    expect(output).toMatch(/kvNamespaces\.CATALOG is the committed dev placeholder "balancer-catalog"/);
    expect(output).toMatch(/ADMIN_TOKEN is the committed or local dev value/);
    expect(bundled()).toBe(false);
  });

  it("refuses verify keys that do not hold the signing key's public half", async () => {
    account({});
    secrets([], { PLAYBACK_VERIFY_KEYS: JSON.stringify(generatePlaybackKeys().verifyKeys) });
    const { code, output } = await runDeploy(config());
    expect(code).not.toBe(0);
    expect(output).toMatch(/PLAYBACK_VERIFY_KEYS does not hold the public half of PLAYBACK_SIGNING_KEY/);
    expect(bundled()).toBe(false);
  });

  it("bundles a complete configuration into the outdir with the account's KV ids and the production verify keys", async () => {
    // ADMIN_TOKEN is set on the worker already and not in the file: kept as it is.
    account({ secrets: ["ADMIN_TOKEN"] });
    const given = secrets(["ADMIN_TOKEN"]);
    const path = config();
    const before = readFileSync(path, "utf8");
    const { code, output } = await runDeploy(path);
    expect(output).toContain("--dry-run: exiting now");
    expect(code).toBe(0);
    expect(bundled()).toBe(true);
    const generated = readFileSync(join(dir, "deploy.wrangler.toml"), "utf8");
    expect(generated).toContain(`id = "${KV_CATALOG}"`);
    expect(generated).toContain(`id = "${KV_ACCOUNTS}"`);
    expect(generated).not.toContain('"balancer-catalog"');
    expect(generated).toContain(`PLAYBACK_VERIFY_KEYS = ${JSON.stringify(given.PLAYBACK_VERIFY_KEYS)}`);
    expect(generated).toMatch(/^routes = \[\{ pattern = "live\.stadium\.test", custom_domain = true \}\]$/m);
    // wrangler lists what it would upload: the vars by value, the secrets hidden.
    expect(output).toMatch(/env\.VIEWER_TOKEN_SECRET \("\(hidden\)"\)/);
    expect(output).not.toContain(given.VIEWER_TOKEN_SECRET!);
    // A dry run writes nothing into the operator's configuration and creates nothing.
    expect(readFileSync(path, "utf8")).toBe(before);
    expect(accountCalls().filter((c) => !c.includes(" list"))).toEqual([]);
  });

  it("finds namespaces by title when the configuration has no ids, and only says it would create a missing one", async () => {
    account({ namespaces: [{ id: KV_CATALOG, title: "balancer-edge-CATALOG" }] });
    secrets();
    const { code, output } = await runDeploy(config({ kvNamespaces: {} }));
    expect(code).toBe(0);
    expect(output).toContain("dry run: would create KV namespace balancer-edge-ACCOUNTS for ACCOUNTS");
    expect(bundled()).toBe(true);
    expect(readFileSync(join(dir, "deploy.wrangler.toml"), "utf8")).toContain(`id = "${KV_CATALOG}"`);
    expect(accountCalls().some((c) => c.startsWith("kv namespace create"))).toBe(false);
  });
});

describe("npm run deploy (a real run, wrangler deploy stubbed)", () => {
  it("creates the missing namespace, writes the ids into the deploy configuration and hands wrangler deploy the secrets", async () => {
    const namespaces = [{ id: KV_CATALOG, title: "balancer-edge-CATALOG" }];
    const calls: string[][] = [];
    let uploaded: Record<string, string> = {};
    const wrangler: Wrangler = {
      account: async (args) => {
        calls.push(args);
        if (args.slice(0, 3).join(" ") === "kv namespace list") return { code: 0, stdout: JSON.stringify(namespaces), stderr: "" };
        if (args.slice(0, 3).join(" ") === "kv namespace create") {
          namespaces.push({ id: KV_ACCOUNTS, title: args[3]! });
          return { code: 0, stdout: "✨ Success!", stderr: "" };
        }
        if (args[0] === "secret") return { code: 1, stdout: "", stderr: 'Worker "balancer-edge" not found.' };
        return { code: 2, stdout: "", stderr: "unexpected" };
      },
      deploy: async (args) => {
        calls.push(args);
        uploaded = JSON.parse(readFileSync(args[args.indexOf("--secrets-file") + 1]!, "utf8")) as Record<string, string>;
        return 0;
      },
    };
    const given = secrets();
    const path = config({ kvNamespaces: {} });
    const code = await deploy({ root: ROOT, configPath: path, dryRun: false, env: {}, wrangler, buildWeb: () => {}, log: () => {} });
    expect(code).toBe(0);
    expect(calls.some((c) => c.join(" ").startsWith("kv namespace create balancer-edge-ACCOUNTS"))).toBe(true);
    expect(JSON.parse(readFileSync(path, "utf8")).kvNamespaces).toEqual({ CATALOG: KV_CATALOG, ACCOUNTS: KV_ACCOUNTS });
    const deployCall = calls.at(-1)!;
    expect(deployCall.slice(0, 3)).toEqual(["deploy", "-c", join(dir, "deploy.wrangler.toml")]);
    expect(deployCall).not.toContain("--dry-run");
    expect(uploaded).toEqual({ ADMIN_TOKEN: given.ADMIN_TOKEN, VIEWER_TOKEN_SECRET: given.VIEWER_TOKEN_SECRET, PLAYBACK_SIGNING_KEY: given.PLAYBACK_SIGNING_KEY });
    // The committed wrangler.toml keeps its dev placeholders.
    expect(readFileSync(join(ROOT, "wrangler.toml"), "utf8")).toContain('id = "balancer-catalog"');
  });
});

describe("the dev values", () => {
  it("include this checkout's .dev.vars keys, which production refuses", () => {
    const keys = generatePlaybackKeys();
    const devVars = join(dir, ".dev.vars");
    writeFileSync(devVars, `PLAYBACK_SIGNING_KEY='${JSON.stringify(keys.signingKey)}'\nPLAYBACK_VERIFY_KEYS='${JSON.stringify(keys.verifyKeys)}'\n`);
    const problems = checkGivenValues(
      { ADMIN_TOKEN: "x".repeat(32), VIEWER_TOKEN_SECRET: "y".repeat(40), PLAYBACK_SIGNING_KEY: JSON.stringify(keys.signingKey), PLAYBACK_VERIFY_KEYS: JSON.stringify(keys.verifyKeys) },
      devValues(ROOT, devVars),
    );
    expect(problems.join("\n")).toMatch(/PLAYBACK_SIGNING_KEY is this checkout's dev key/);
    expect(problems.join("\n")).toMatch(/PLAYBACK_VERIFY_KEYS holds a dev key/);
  });

  it("accept a fresh production set from --new-secrets", () => {
    const vars = parseDotenv(newSecretsFile());
    expect(checkGivenValues(vars, devValues(ROOT, join(dir, "no-such-file")))).toEqual([]);
  });

  it("refuse a signing key whose public half is not its own", () => {
    const a = generatePlaybackKeys();
    const b = generatePlaybackKeys();
    const forged = { ...a.signingKey, x: b.signingKey.x };
    const problems = checkGivenValues(
      { ADMIN_TOKEN: "x".repeat(32), VIEWER_TOKEN_SECRET: "y".repeat(40), PLAYBACK_SIGNING_KEY: JSON.stringify(forged), PLAYBACK_VERIFY_KEYS: JSON.stringify([{ kid: forged.kid, x: forged.x }]) },
      devValues(ROOT, join(dir, "no-such-file")),
    );
    expect(problems.join("\n")).toMatch(/public half `x` does not belong to its private key `d`/);
  });
});
