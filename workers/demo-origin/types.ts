// The Hono environment every demo-origin route shares: only the bindings wrangler generates.
export type DemoOriginApp = { Bindings: DemoOriginEnv };
