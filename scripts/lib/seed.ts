// Demo data, written through the operator API exactly as an operator script would.

export interface SeedOptions {
  edgeUrl: string;
  originUrl: string;
  adminToken: string;
}

async function put(o: SeedOptions, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${o.edgeUrl}/api/v1${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${o.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`seeding ${path} failed: ${res.status} ${await res.text()}`);
}

/** Event `demo` with channels `main` (free) and `premium` (paid), the demo products and the demo viewers. */
export async function seedDemo(o: SeedOptions): Promise<void> {
  await put(o, "/admin/events/demo", {
    title: "Demo match",
    startsAt: new Date().toISOString(),
    limits: { maxSessions: 1000, leaseSeconds: 60 },
  });
  await put(o, "/admin/products/premium-pass", {
    kind: "channel_pass",
    title: "Premium pass",
    description: "The premium camera angle for the whole match.",
    price: { amount: 29900, currency: "RUB" },
    eventId: "demo",
    channelIds: ["premium"],
  });
  await put(o, "/admin/products/replay-pack", {
    kind: "goods",
    title: "Replay pack",
    description: "Every goal from every angle, after the match.",
    price: { amount: 9900, currency: "RUB" },
  });
  await put(o, "/admin/products/food-voucher", {
    kind: "goods",
    title: "Food voucher",
    description: "A hot dog and a drink at any stadium kiosk.",
    price: { amount: 45000, currency: "RUB" },
  });
  await put(o, "/admin/events/demo/channels/main", {
    title: "Main camera",
    originUrl: `${o.originUrl}/live/main/index.m3u8`,
    paid: false,
  });
  await put(o, "/admin/events/demo/channels/premium", {
    title: "Premium camera",
    originUrl: `${o.originUrl}/live/premium/index.m3u8`,
    paid: true,
    productId: "premium-pass",
  });
  for (const viewer of DEMO_VIEWERS) await registerViewer(o, viewer);
}

/** Demo viewers: the original prototype's test account, and a second viewer. Neither owns anything at first. */
export const DEMO_VIEWERS = [
  { login: "fdpd6", password: "123456" },
  { login: "viewer2", password: "viewer2-password" },
] as const;

/** Registers a viewer through the public endpoint, as the app would; an existing account (409) is fine. */
async function registerViewer(o: SeedOptions, viewer: { login: string; password: string }): Promise<void> {
  const res = await fetch(`${o.edgeUrl}/api/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(viewer),
  });
  if (res.status !== 201 && res.status !== 409) throw new Error(`registering ${viewer.login} failed: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}
