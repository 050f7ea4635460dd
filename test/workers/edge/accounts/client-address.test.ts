// The client address key that login throttling counts against.
import { describe, expect, it } from "vitest";
import { clientAddressKey } from "../../../../workers/edge/accounts/client-address";

describe("clientAddressKey", () => {
  it("keeps an IPv4 address as it is", () => {
    expect(clientAddressKey("203.0.113.7")).toBe("203.0.113.7");
  });

  it("cuts an IPv6 address to its /64, however it is written", () => {
    expect(clientAddressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(clientAddressKey("2001:0DB8:0001:0002::1")).toBe("2001:db8:1:2::/64");
    expect(clientAddressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  });

  it("reads an IPv4-mapped IPv6 address as the IPv4 address", () => {
    expect(clientAddressKey("::ffff:198.51.100.4")).toBe("198.51.100.4");
  });

  it("falls back to the shared key 'local' without a usable header", () => {
    for (const h of [undefined, null, "", "  ", "not an ip", "1:2:3", "::1::2", "x".repeat(100), "1.2.3"]) expect(clientAddressKey(h)).toBe("local");
  });
});
