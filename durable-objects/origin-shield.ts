import { DurableObject } from "cloudflare:workers";
export class OriginShield extends DurableObject<Env> {
  async ping(): Promise<string> { return "pong"; }
}
