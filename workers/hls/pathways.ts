// Per-viewer edits of playlists the platform itself emitted (relative URIs, its own steering tag): explicit
// stadium-node pathways in a multivariant playlist, and absolute node links in a media playlist.
//
// Why explicit pathways: hls.js applies a steering clone's URI-REPLACEMENT HOST to `url.hostname` only,
// so the port (and scheme) stay the edge's; a node at http://10.0.0.5:8080 behind an edge at
// https://edge:443 cannot be reached by a host-only clone. The multivariant therefore lists, for each
// healthy node, its variants with absolute node URIs under a base pathway, and the steering manifest
// clones *that* base (host replacement only, the port is already right) into per-incarnation pathways.

const URI_ATTR = /(^|[:,])URI="([^"]*)"/;

/** A stadium node as the playlist needs it. */
export interface NodePathway {
  /** Pathway ids to list this node's variants under (its base pathway and its current incarnation). */
  pathwayIds: string[];
  /** Absolute URL the relative URIs resolve against: `<node baseUrl>/play/<token>/index.m3u8`. */
  playlistUrl: string;
}

/**
 * Appends, for every node and pathway id, a copy of each variant (EXT-X-STREAM-INF + URI) and of each
 * rendition it uses (EXT-X-MEDIA, group renamed `<group>-<pathway>`), with absolute node URIs.
 * The input is the platform's own multivariant output with its steering tag and PATHWAY-IDs.
 */
export function addNodePathways(multivariant: string, nodes: readonly NodePathway[]): string {
  if (nodes.length === 0) return multivariant;
  const lines = multivariant.split(/\r?\n/);
  const media: string[] = [];
  const variants: { tag: string; uri: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#EXT-X-MEDIA:")) media.push(line);
    else if (line.startsWith("#EXT-X-STREAM-INF:")) {
      let j = i + 1;
      while (j < lines.length && (lines[j]!.trim() === "" || lines[j]!.startsWith("#"))) j++;
      if (j < lines.length) variants.push({ tag: line, uri: lines[j]!.trim() });
    }
  }
  const out: string[] = [];
  for (const node of nodes) {
    for (const pathway of node.pathwayIds) {
      const rename = (group: string) => `${group}-${pathway}`;
      for (const m of media) {
        let copy = setAttr(m, "GROUP-ID", rename(attr(m, "GROUP-ID") ?? ""));
        const uri = URI_ATTR.exec(copy);
        if (uri) copy = copy.replace(URI_ATTR, `$1URI="${new URL(uri[2]!, node.playlistUrl).href}"`);
        out.push(copy);
      }
      for (const v of variants) {
        let tag = setAttr(v.tag, "PATHWAY-ID", pathway);
        for (const name of ["AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"]) {
          const group = attr(tag, name);
          if (group !== undefined && !(name === "CLOSED-CAPTIONS" && group === "NONE")) tag = setAttr(tag, name, rename(group));
        }
        out.push(tag, new URL(v.uri, node.playlistUrl).href);
      }
    }
  }
  const body = multivariant.endsWith("\n") ? multivariant : multivariant + "\n";
  return body + out.join("\n") + "\n";
}

/** Sets the initial PATHWAY-ID of the platform's EXT-X-CONTENT-STEERING tag. */
export function setInitialPathway(multivariant: string, pathwayId: string): string {
  return multivariant.replace(/^(#EXT-X-CONTENT-STEERING:.*?PATHWAY-ID=)"[^"]*"/m, `$1"${pathwayId}"`);
}

/**
 * Rewrites every URI of a media playlist (URI lines, URI="…" attributes) to an absolute URL resolved
 * against `playlistUrl`: how a player without Content Steering is sent to a stadium node.
 */
export function absolutizeUris(playlist: string, playlistUrl: string): string {
  const eol = playlist.includes("\r\n") ? "\r\n" : "\n";
  return playlist
    .split(/\r?\n/)
    .map((line) => {
      if (line.trim() === "") return line;
      if (!line.startsWith("#")) return new URL(line.trim(), playlistUrl).href;
      if (!line.startsWith("#EXT")) return line;
      const m = URI_ATTR.exec(line);
      return m ? line.replace(URI_ATTR, `$1URI="${new URL(m[2]!, playlistUrl).href}"`) : line;
    })
    .join(eol);
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`[:,]${name}="([^"]*)"`).exec(tag);
  return m?.[1];
}

function setAttr(tag: string, name: string, value: string): string {
  const re = new RegExp(`([:,]${name}=)("[^"]*"|[^,]*)`);
  return re.test(tag) ? tag.replace(re, `$1"${value}"`) : `${tag},${name}="${value}"`;
}
