// Caller-side helper for the login registry: the only place that builds its ids and stubs.

/** The registry object of one normalised login. */
export function loginRegistry(env: Env, loginKey: string) {
  return env.LOGIN_REGISTRY.get(env.LOGIN_REGISTRY.idFromName(loginKey));
}
