// Ed25519 key pairs for playback tokens, in the JSON shapes the workers read from their settings.
import { generateKeyPairSync, randomBytes } from "node:crypto";

export interface PlaybackKeyPair {
  signingKey: { kid: string; x: string; d: string };
  verifyKeys: { kid: string; x: string }[];
}

/** A fresh key pair with a random key id. */
export function generatePlaybackKeys(): PlaybackKeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" }) as { x: string; d: string };
  const kid = `k${randomBytes(4).toString("hex")}`;
  return { signingKey: { kid, x: jwk.x, d: jwk.d }, verifyKeys: [{ kid, x: jwk.x }] };
}
