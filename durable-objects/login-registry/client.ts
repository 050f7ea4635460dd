// Caller-side helper for the login registry: the only place that builds its ids and stubs.

/** The registry object of one normalised login. */
export function loginRegistry(env: Env, loginKey: string) {
  return env.LOGIN_REGISTRY.get(env.LOGIN_REGISTRY.idFromName(loginKey));
}

// The types callers name, so that no caller imports the object's own modules.
export type { ClaimOutcome } from "./login-registry";
