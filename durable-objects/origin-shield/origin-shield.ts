// Per-channel origin shield: the only thing that talks to a channel's origins. Each segment is fetched once
// and streamed to every waiting edge; live playlists are polled ahead of viewers while anyone asks for them,
// and the channel moves between its origin and its backups when one fails. The serving is ShieldChannel's;
// this object keeps one per version of the channel's configuration, its storage and its alarm.
import { DurableObject } from "cloudflare:workers";
import { ShieldChannel, type ShieldFigures, type ShieldReply, type ShieldRequest } from "./channel";
import type { FailoverSaved } from "./failover";
import { PROBE_INTERVAL_MS } from "./origin-health";

export type { OriginsSnapshot, PlaylistVariant, ShieldFigures, ShieldReply, ShieldRequest } from "./channel";

const SAVED_KEY = "failover";

export class OriginShield extends DurableObject<Env> {
  private version = "";
  private channel: ShieldChannel | null = null;
  private readonly segmentBytes: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const mb = Number(env.SHIELD_WINDOW_MB ?? "64");
    this.segmentBytes = (Number.isFinite(mb) && mb > 0 ? mb : 64) * 1024 * 1024;
  }

  /** Serves one resource of the channel: a rewritten playlist or a segment's bytes. */
  async get(req: ShieldRequest): Promise<ShieldReply> {
    return (await this.use(req)).get(req);
  }

  /** The BANDWIDTH of each variant of the channel's multivariant playlist, lowest first (empty for a lone media playlist), for the egress budget. */
  async ladder(req: Omit<ShieldRequest, "key" | "variant">): Promise<number[] | null> {
    return (await this.use(req)).ladder();
  }

  /** Figures for the operator: what reached the origin, how the window is doing, which origin serves. */
  async snapshot(): Promise<ShieldFigures> {
    if (this.channel) return this.channel.figures();
    // Not asked since it started: what it stored says which origin serves.
    const saved = await this.ctx.storage.get<FailoverSaved>(SAVED_KEY);
    const serving = saved?.serving ?? 0;
    return { originRequests: 0, segmentFetches: 0, playlistFetches: 0, hits: 0, misses: 0, storedBytes: 0, origins: { serving, switches: [...(saved?.switches ?? [])], status: [] } };
  }

  /** Polls every watched live playlist that is due, whatever the number of viewers, and probes an earlier origin. */
  override async alarm(): Promise<void> {
    if (!this.channel) return; // restarted: viewers' next requests bring the channel back, and the alarm with it
    await this.channel.poll(Date.now());
    await this.armPolling();
  }

  /** The channel for the request's version of the configuration; a new version (the operator edited the channel) starts afresh. */
  private async use(req: Pick<ShieldRequest, "origin" | "backupOriginUrls" | "originVersion">): Promise<ShieldChannel> {
    if (this.channel && req.originVersion === this.version) return this.channel;
    const saved = await this.ctx.storage.get<FailoverSaved>(SAVED_KEY);
    if (this.channel && req.originVersion === this.version) return this.channel; // built by a request meanwhile
    this.version = req.originVersion;
    this.channel = new ShieldChannel(req, saved?.version === req.originVersion ? saved : undefined, this.segmentBytes, {
      save: (s) => this.ctx.storage.put(SAVED_KEY, s),
      armPolling: () => this.armPolling(),
      name: this.ctx.id.toString(),
    });
    return this.channel;
  }

  private async armPolling(): Promise<void> {
    const channel = this.channel;
    if (!channel) return;
    const now = Date.now();
    const current = await this.ctx.storage.getAlarm();
    let at = channel.window.alarmAt(now, current);
    // While a backup serves, the earlier origins are probed so the channel can go back.
    if (channel.failover.health.serving() > 0 && channel.window.watchedKeys().length > 0) {
      const probeAt = now + PROBE_INTERVAL_MS;
      if ((current === null || current > probeAt) && (at === null || at > probeAt)) at = probeAt;
    }
    if (at !== null) await this.ctx.storage.setAlarm(at);
  }
}
