// The payment provider behind purchases: one interface, one demo implementation (anything but `test_decline` is approved).

export interface Money {
  amount: number;
  currency: string;
}

export interface ChargeRequest {
  /** Stable for one purchase attempt, so a provider that is asked twice charges once. */
  idempotencyKey: string;
  amount: Money;
  /** What the client chose (`paymentMethod`); the demo provider only looks for `test_decline`. */
  method: string | undefined;
  description: string;
}

export type ChargeResult = { ok: true; reference: string } | { ok: false; reason: string };

/** Takes the money for a purchase. Must be idempotent on `idempotencyKey`. */
export interface PaymentProvider {
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

/** Approves everything except the method `test_decline`; moves no money. */
export class DemoPaymentProvider implements PaymentProvider {
  readonly name = "demo";

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    if (request.method === "test_decline") return { ok: false, reason: "The demo provider declines the test_decline method." };
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(request.idempotencyKey));
    const hex = [...new Uint8Array(digest).slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
    return { ok: true, reference: `demo_${hex}` };
  }
}

/** The provider this deployment charges through. */
export function paymentProvider(): PaymentProvider {
  return new DemoPaymentProvider();
}
