// Row (i): an LL-HLS crowd on one part. 1,000 viewers hold the same blocking playlist reload
// (`?_HLS_msn=M&_HLS_part=P`) through the edge and through a stadium node, as players at the live edge do
// every part; then the same crowd asks for the preload-hinted part itself before it exists. The figures: how
// many requests reached the origin for that (msn, part), and how long after the origin answered the last
// of the 1,000 viewers had the whole playlist (the fan-out), from the origin's own note of when it answered.
import type { Platform } from "../scripts/lib/platform";
import { addChannel, openChannel } from "../test/support/platform";
import { openConnection, percentile, type OpenConnection } from "./lib/net";
import { num, type Row } from "./lib/table";

const CLIENTS = Number(process.env.BENCH_LL_CLIENTS ?? 1_000);
const CHANNEL = "bench-ll";
/** The demo origin's LL stream for this row, as a single media playlist (the channel's playback URL blocks). */
const STREAM = "bench-ll";
const PARTS_PER_SEGMENT = 4;
/** How far past the newest listed part the crowd asks: far enough that every request is held before it exists. */
const PARTS_AHEAD = 3;
const TIMEOUT_MS = 15_000;

interface OriginLlStats {
  byPath: Record<string, number>;
  blockingReloads: Record<string, { answered: number; readyAt: number; lastAnsweredAt: number }>;
}

interface Crowd {
  /** Absolute times (ms since the epoch) each viewer had its whole answer, sorted; failed viewers left out. */
  doneAt: number[];
  failures: number;
  firstError?: string;
}

/** `CLIENTS` connections opened first, then one GET each, all at once; when each had its whole answer. */
async function crowd(url: string): Promise<Crowd> {
  let failures = 0;
  let firstError: string | undefined;
  const failed = (err: unknown) => {
    failures++;
    firstError ??= String(err);
    return NaN;
  };
  const connections = await Promise.all(Array.from({ length: CLIENTS }, () => openConnection(url, TIMEOUT_MS).catch((err: unknown) => (failed(err), null))));
  const done = await Promise.all(
    connections.map((c: OpenConnection | null) => {
      if (c === null) return NaN;
      const sentAt = Date.now();
      return c.get().then((r) => (r.status === 200 && r.bytes > 0 ? sentAt + r.ms : failed(`status ${r.status}, ${r.bytes} bytes`)), failed);
    }),
  );
  return { doneAt: done.filter((t) => Number.isFinite(t)).sort((a, b) => a - b), failures, firstError };
}

async function originLlStats(p: Platform): Promise<OriginLlStats> {
  return (await (await fetch(`${p.originUrl}/_stats`)).json()) as OriginLlStats;
}

/** The newest part the playlist lists (EXT-X-PART), as a part number counted from segment 0. */
function newestPart(text: string): number {
  const last = [...text.matchAll(/^#EXT-X-PART:.*URI="[^"]*part-(\d+)-(\d+)\.m4s"/gm)].at(-1);
  if (!last) throw new Error(`no EXT-X-PART in the LL playlist:\n${text.slice(0, 400)}`);
  return Number(last[1]) * PARTS_PER_SEGMENT + Number(last[2]);
}

/**
 * The floor: the same crowd holding the reload at the demo origin itself, timed from the instant the part came
 * to exist (the origin answers each of its 1,000 requests then): what one workerd process and this one Node
 * process reading 1,000 sockets cost, with no cache between.
 */
async function directRows(p: Platform, log: (msg: string) => void): Promise<Row[]> {
  const playlist = `${p.originUrl}/ll/${STREAM}/media.m3u8`;
  const target = newestPart(await (await fetch(playlist)).text()) + PARTS_AHEAD;
  const [msn, part] = [Math.floor(target / PARTS_PER_SEGMENT), target % PARTS_PER_SEGMENT];
  log(`(i) the origin direct: ${CLIENTS} viewers holding the blocking reload of part ${part} of segment ${msn}…`);
  const reload = await crowd(`${playlist}?_HLS_msn=${msn}&_HLS_part=${part}`);
  const noted = (await originLlStats(p)).blockingReloads[`/ll/${STREAM}/media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`];
  if (!noted || reload.doneAt.length === 0) return [];
  const after = reload.doneAt.map((t) => t - noted.readyAt);
  const label = `(i) floor: ${CLIENTS} LL blocking reloads held at the origin itself, from the part's instant`;
  const failed = reload.failures > 0 ? ` (${reload.failures} failed!)` : "";
  return [
    { what: `${label} → median viewer's whole answer, ms`, ours: num(percentile(after, 50)) + failed, nginx: "—", ratio: "—" },
    { what: `${label} → last viewer's whole answer, ms`, ours: num(after.at(-1)!), nginx: "—", ratio: "—" },
  ];
}

export async function llFanoutRows(p: Platform, tiers: { name: string; url: string }[], log: (msg: string) => void): Promise<{ rows: Row[]; notes: string[] }> {
  await addChannel(p, CHANNEL, `${p.originUrl}/ll/${STREAM}/media.m3u8`);
  const rows: Row[] = await directRows(p, log);
  const notes: string[] = [];
  for (const tier of tiers) {
    const { token } = await openChannel(p, CHANNEL);
    const playlist = `${tier.url}/play/${token}/index.m3u8`;
    const plain = await fetch(playlist);
    if (plain.status !== 200) throw new Error(`(i) ${tier.name}: the LL playlist answered ${plain.status}`);
    const target = newestPart(await plain.text()) + PARTS_AHEAD;
    const [msn, part] = [Math.floor(target / PARTS_PER_SEGMENT), target % PARTS_PER_SEGMENT];
    log(`(i) ${tier.name}: ${CLIENTS} viewers holding the blocking reload of part ${part} of segment ${msn}…`);
    const reload = await crowd(`${playlist}?_HLS_msn=${msn}&_HLS_part=${part}`);
    const noted = (await originLlStats(p)).blockingReloads[`/ll/${STREAM}/media.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`];
    const label = `(i) ${CLIENTS} held LL blocking reloads of one (msn, part) via ${tier.name}`;
    const failed = reload.failures > 0 ? ` (${reload.failures} failed!)` : "";
    rows.push({ what: `${label}: origin requests for it`, ours: num(noted?.answered ?? 0) + failed, nginx: "—", ratio: "—" });
    if (noted && reload.doneAt.length > 0) {
      const after = reload.doneAt.map((t) => t - noted.lastAnsweredAt);
      rows.push({ what: `${label}: origin's answer → median viewer's whole answer, ms`, ours: num(percentile(after, 50)), nginx: "—", ratio: "—" });
      rows.push({ what: `${label}: origin's answer → last viewer's whole answer, ms (goal ≤ 100)`, ours: num(after.at(-1)!), nginx: "—", ratio: "—" });
    }
    if (reload.failures > 0) notes.push(`(i) ${tier.name} reload: ${reload.failures} of ${CLIENTS} failed (first: ${reload.firstError}).`);

    // The part the crowd's playlist now hints: all ask for it before it exists; the origin should see it once.
    const hinted = target + 1;
    const partFile = `part-${Math.floor(hinted / PARTS_PER_SEGMENT)}-${hinted % PARTS_PER_SEGMENT}.m4s`;
    const originPartPath = `/ll/${STREAM}/${await singleRenditionDir(p)}${partFile}`;
    const before = (await originLlStats(p)).byPath[originPartPath] ?? 0;
    log(`(i) ${tier.name}: ${CLIENTS} viewers asking for the preload-hinted ${partFile}…`);
    const parts = await crowd(`${tier.url}/play/${token}/${await singleRenditionDir(p)}${partFile}`);
    const fetched = ((await originLlStats(p)).byPath[originPartPath] ?? 0) - before;
    rows.push({
      what: `(i) ${CLIENTS} viewers asking for the preload-hinted part via ${tier.name}: origin requests for it`,
      ours: num(fetched) + (parts.failures > 0 ? ` (${parts.failures} failed!)` : ""),
      nginx: "—",
      ratio: "—",
    });
    if (parts.failures > 0) notes.push(`(i) ${tier.name} hinted part: ${parts.failures} of ${CLIENTS} failed (first: ${parts.firstError}).`);
  }
  notes.push(
    `(i) LL channel: the demo origin's /ll/${STREAM}/media.m3u8 (0.5 s parts of 2 s segments). Each viewer holds its own connection, opened first; all ask at once for a part ${PARTS_AHEAD} past the newest listed, so every request is held before the origin can answer. "Origin's answer" is the demo origin's own clock (/_stats blockingReloads, the same machine's clock), so the fan-out includes the shield, the edge (and the node) passing the playlist on and this one Node process reading 1,000 sockets. All viewers share one session's token.`,
  );
  return { rows, notes };
}

let renditionDir: string | undefined;
/** Where the single media playlist's parts live, relative to it (read from the playlist, not assumed). */
async function singleRenditionDir(p: Platform): Promise<string> {
  if (renditionDir !== undefined) return renditionDir;
  const text = await (await fetch(`${p.originUrl}/ll/${STREAM}/media.m3u8`)).text();
  const uri = /^#EXT-X-PART:.*URI="([^"]*)part-\d+-\d+\.m4s"/m.exec(text);
  renditionDir = uri?.[1] ?? "";
  return renditionDir;
}
