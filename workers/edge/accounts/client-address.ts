// The client address that login throttling and the per-address admission limit count against.

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const HEX_GROUP = /^[0-9a-f]{1,4}$/;

/**
 * The throttle key of the caller: its CF-Connecting-IP, with an IPv6 address cut to its /64 (one
 * subscriber usually holds a whole /64, and rotating within it must not buy fresh attempts) and an
 * IPv4-mapped IPv6 address read as the IPv4 address. Without a usable header (local tools, tests)
 * every caller shares the key "local".
 */
export function clientAddressKey(header: string | undefined | null): string {
  const ip = header?.trim().toLowerCase();
  if (!ip || ip.length > 64) return "local";
  if (ip.includes(".")) {
    const v4 = ip.slice(ip.lastIndexOf(":") + 1);
    return IPV4.test(v4) ? v4 : "local";
  }
  const groups = expandIpv6(ip);
  return groups ? `${groups.slice(0, 4).join(":")}::/64` : "local";
}

function expandIpv6(ip: string): string[] | null {
  const halves = ip.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === "" ? [] : s.split(":"));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((g) => HEX_GROUP.test(g))) return null;
  return groups.map((g) => g.replace(/^0+(?=.)/, ""));
}
