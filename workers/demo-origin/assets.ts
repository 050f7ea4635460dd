// Reads the committed media through the ASSETS binding and answers with the origin's own headers.
import { rangedResponse } from "./byte-range";
import { mediaHeaders } from "./media-headers";

/**
 * Where the file for URL path `path` is stored. MPEG-TS files sit on disk as .m2t (a standard MPEG-2 TS
 * extension) because tsc, whose root config includes workers/, would parse a .ts file as TypeScript;
 * every URL and playlist still says .ts.
 */
export function storedPath(path: string): string {
  return path.endsWith(".ts") ? `${path.slice(0, -3)}.m2t` : path;
}

// Request headers a static file server acts on; everything else from the client is irrelevant to a file.
const FORWARDED = ["range", "if-range", "if-none-match", "if-modified-since"];

/**
 * The file at URL path `assetPath` (inside ./media, before the .ts → .m2t mapping) as the answer to
 * `request`, Range and conditional headers honoured; undefined when there is no such file.
 */
export async function serveAsset(env: DemoOriginEnv, request: Request, assetPath: string): Promise<Response | undefined> {
  const headers = new Headers();
  for (const name of FORWARDED) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const method = request.method === "HEAD" ? "HEAD" : "GET";
  const res = await env.ASSETS.fetch(new Request(new URL(storedPath(assetPath), "https://assets.invalid"), { method, headers }));
  if (res.status === 404) return undefined;
  const out = new Response(res.body, res);
  for (const [name, value] of Object.entries(mediaHeaders(assetPath))) out.headers.set(name, value);
  if (method === "GET" && out.status === 200 && wantsRange(request, out)) {
    // The local assets server answers a Range request with the whole file; the byterange VOD set and
    // players resuming a download need the part they asked for, so cut it here (files are small).
    const body = new Uint8Array(await out.arrayBuffer());
    const headers: Record<string, string> = {};
    out.headers.forEach((value, name) => {
      if (name !== "content-length") headers[name] = value;
    });
    return rangedResponse(request, body, headers);
  }
  return out;
}

// RFC 9110 §13.1.5: with If-Range, the range applies only while the validator still matches.
function wantsRange(request: Request, res: Response): boolean {
  if (request.headers.get("range") === null) return false;
  const ifRange = request.headers.get("if-range");
  return ifRange === null || ifRange === res.headers.get("etag");
}
