// Which hosts a channel may fetch from: the host of its originUrl plus its allowedHosts.
import type { ChannelOrigin } from "../hls/paths";

/** True if `url` is http(s) on the origin's host or one of its allowedHosts. */
export function isAllowedOrigin(url: URL, origin: ChannelOrigin): boolean {
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (url.username || url.password) return false;
  const host = url.host.toLowerCase();
  if (host === new URL(origin.originUrl).host.toLowerCase()) return true;
  return origin.allowedHosts.some((h) => h.toLowerCase() === host);
}
