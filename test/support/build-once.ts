// Vitest global setup for the platform tests: bundle every worker once per run instead of once per file.
import { buildWorker, WORKERS } from "../../scripts/lib/build";

export default function setup(): void {
  for (const name of Object.keys(WORKERS) as (keyof typeof WORKERS)[]) buildWorker(name);
  process.env.BALANCER_PREBUILT = "1";
}
