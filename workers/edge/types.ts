// The Hono environment of the edge app: bindings from wrangler, values set by middleware.
import type { EdgeConfig } from "./config";

export interface EdgeVariables {
  config: EdgeConfig;
}

export type EdgeEnv = { Bindings: Env; Variables: EdgeVariables };
