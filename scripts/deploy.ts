// `npm run deploy`: checks the deploy configuration, its secrets and the Cloudflare account, then `wrangler deploy` (docs/deploy.md).
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildWeb } from "./lib/build-web";
import { ROOT } from "./lib/dev-vars";
import { deploy, DeployRefused, localWrangler, newSecretsFile } from "./lib/deploy";

const { values } = parseArgs({
  options: {
    config: { type: "string", default: join(ROOT, "balancer.deploy.json") },
    secrets: { type: "string" },
    "dry-run": { type: "boolean", default: false },
    outdir: { type: "string" },
    "new-secrets": { type: "string" },
  },
});

if (values["new-secrets"]) {
  const path = resolve(values["new-secrets"]);
  // Overwriting would throw away the signing key that every issued token and stadium node depends on.
  if (existsSync(path)) {
    console.error(`${path} exists; not overwriting it`);
    process.exit(1);
  }
  writeFileSync(path, newSecretsFile(), { mode: 0o600 });
  console.log(`wrote fresh production secrets (admin token, viewer token secret, playback key pair) to ${path}`);
  process.exit(0);
}

try {
  const code = await deploy({
    root: ROOT,
    configPath: values.config,
    secretsPath: values.secrets,
    dryRun: values["dry-run"],
    outdir: values.outdir,
    env: process.env,
    // A stand-in for the Cloudflare account (the tests'); unset, wrangler itself talks to the account.
    wrangler: localWrangler(ROOT, process.env, process.env.BALANCER_DEPLOY_ACCOUNT_WRANGLER || undefined),
    buildWeb,
    log: (line) => console.log(line),
  });
  process.exit(code);
} catch (error) {
  console.error(error instanceof DeployRefused ? error.message : `deploy failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
