// The admission coordinator of an event with `shards` > 1: every second while the event has sessions or
// tickets it reads each shard's counts, moves slots between shards (shrink before grow, under the pure
// Coordinator's ledger in event-gate/shards.ts) and publishes the arrival-time horizon and the overload switch.
import { DurableObject } from "cloudflare:workers";
import type { AdmissionSnapshot, Limits } from "../event-gate/model";
import { COORDINATOR_INTERVAL_MS, Coordinator, type ShardOrder } from "../event-gate/shards";
import type { ShardCounts, ShardSettings } from "../event-gate-shard/event-gate-shard";
import { gateShard } from "../event-gate/client";

export interface CoordinatorConfig {
  eventId: string;
  shards: number;
  /** The event's limits as the unsharded gate validated them (defaults included). */
  limits: Limits;
  /** Carried over when the event changes to sharded admission. */
  overload?: boolean;
}

/** The event's totals over every shard, in the shape of the unsharded gate's snapshot. */
export type CoordinatorSnapshot = AdmissionSnapshot & { reportCalls: { edge: number; node: number }; shards: number };

/** A session limit the coordinator can count in: the event has none. */
const UNLIMITED = 1e12;
/** A wake-up within this long of a round's start is answered by that round. */
const MIN_ROUND_GAP_MS = 250;

export class AdmissionCoordinator extends DurableObject<Env> {
  private config: CoordinatorConfig | null = null;
  private overload = false;
  private model: Coordinator | null = null;
  /** A fresh model takes over the ledger and epochs from the shards' first reports (after a restart). */
  private resumed = false;
  private running: Promise<ShardCounts[]> | null = null;
  private lastRound: { at: number; counts: ShardCounts[] } | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.config = (await ctx.storage.get<CoordinatorConfig>("config")) ?? null;
      this.overload = (await ctx.storage.get<boolean>("overload")) ?? false;
    });
  }

  /** Sets the event's shard count and limits (the operator's PUT), then runs a round so they apply at once. */
  async configure(config: CoordinatorConfig): Promise<void> {
    if (!Number.isInteger(config.shards) || config.shards < 2 || config.shards > 64) throw new RangeError("a coordinated event has 2 to 64 shards");
    if (this.model && this.model.shards !== config.shards) {
      // The catalog route refuses a shard count change while the event has sessions or tickets.
      this.model = null;
      this.resumed = false;
    }
    this.config = { eventId: config.eventId, shards: config.shards, limits: config.limits };
    await this.ctx.storage.put("config", this.config);
    if (config.overload !== undefined) await this.setOverloadStored(config.overload);
    this.modelOf().setMaxSessions(config.limits.maxSessions ?? UNLIMITED);
    await this.round(true);
  }

  /** The overload switch: every shard queues every arrival from the round this call runs (well within 2 s). */
  async setOverload(enabled: boolean): Promise<boolean> {
    await this.setOverloadStored(enabled);
    if (this.config) await this.round(true);
    return this.overload;
  }

  async getOverload(): Promise<boolean> {
    return this.overload;
  }

  /** A shard saw an arrival while no round had run lately: run one now (a round just started answers it). */
  async wake(): Promise<void> {
    await this.round(false);
  }

  /** The event's totals, read from every shard now. */
  async snapshot(): Promise<CoordinatorSnapshot> {
    const config = this.requireConfig();
    const counts = await this.round(true);
    const sum = (f: (c: ShardCounts) => number) => counts.reduce((a, c) => a + f(c), 0);
    const egressBpsEdge = sum((c) => c.egressBpsEdge);
    const egressBpsNodes = sum((c) => c.egressBpsNodes);
    return {
      activeSessions: sum((c) => c.active + c.reserved),
      queued: sum((c) => c.waiting.reduce((a, [, n]) => a + n, 0)),
      egressBps: egressBpsEdge + egressBpsNodes,
      egressBpsEdge,
      egressBpsNodes,
      reservedBps: 0,
      admittedTotal: sum((c) => c.admittedTotal),
      overload: this.overload,
      limits: config.limits,
      reportCalls: { edge: sum((c) => c.reportCalls.edge), node: sum((c) => c.reportCalls.node) },
      shards: config.shards,
    };
  }

  /** One round now (tests; `runDurableObjectAlarm` does the same through the alarm). */
  async coordinate(): Promise<void> {
    await this.round(true);
  }

  /** Runs a round; re-armed every second only while some shard has sessions, admitted or waiting tickets. Safe to run twice. */
  override async alarm(): Promise<void> {
    if (this.config) await this.round(true);
  }

  private async setOverloadStored(enabled: boolean): Promise<void> {
    this.overload = enabled;
    this.modelOf(false)?.setOverload(enabled);
    await this.ctx.storage.put("overload", enabled);
  }

  private requireConfig(): CoordinatorConfig {
    if (!this.config) throw new Error("the coordinator of an unsharded event was called");
    return this.config;
  }

  private modelOf(): Coordinator;
  private modelOf(create: false): Coordinator | null;
  private modelOf(create = true): Coordinator | null {
    if (!this.model && create) {
      const config = this.requireConfig();
      this.model = new Coordinator(config.shards, config.limits.maxSessions ?? UNLIMITED);
      this.model.setOverload(this.overload);
      this.resumed = false;
    }
    return this.model;
  }

  /** One round at a time; a caller during a round waits for it, and `fresh` asks for one that starts after the call. */
  private async round(fresh: boolean): Promise<ShardCounts[]> {
    if (this.running) {
      const current = await this.running.catch(() => null);
      if (!fresh && current) return current;
      // A round another waiter started after this call is as fresh as one of our own.
      if (this.running) return await this.running;
    }
    if (!fresh && this.lastRound && Date.now() - this.lastRound.at < MIN_ROUND_GAP_MS) return this.lastRound.counts;
    this.running = this.runRound();
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private async runRound(): Promise<ShardCounts[]> {
    const config = this.requireConfig();
    const model = this.modelOf();
    const settings: ShardSettings = { leaseSeconds: config.limits.leaseSeconds, claimSeconds: config.limits.claimSeconds };
    const shards = Array.from({ length: config.shards }, (_, shard) => ({ shard, stub: gateShard(this.env, config.eventId, shard) }));
    const at = (shard: number) => ({ eventId: config.eventId, shard, ...settings });
    const now = Date.now();
    // RPC types lose the tuple of `waiting` ([bucket, count] pairs); the objects send exactly ShardCounts.
    const reports = (await Promise.all(shards.map(({ shard, stub }) => stub.counts(at(shard))))) as ShardCounts[];
    if (!this.resumed) {
      model.resume(reports);
      this.resumed = true;
    }
    const send = (orders: ShardOrder[]) =>
      Promise.all(
        orders.map(async (order) => {
          const answer = (await shards[order.shard]!.stub.apply({ ...at(order.shard), order })) as ShardCounts;
          model.confirm(answer);
          return answer;
        }),
      );
    await send(model.plan(reports, now, this.egressRoom(config, reports)));
    const published = await send(model.publish());
    const counts = reports.map((r) => published.find((p) => p.shard === r.shard) ?? r);
    this.lastRound = { at: now, counts };
    const busy = counts.some((c) => c.active + c.reserved > 0 || c.waiting.length > 0);
    if (busy) await this.ctx.storage.setAlarm(now + COORDINATOR_INTERVAL_MS);
    else await this.ctx.storage.deleteAlarm();
    return counts;
  }

  /**
   * How many more sessions the egress budget has room for, at the measured mean cost per session
   * (unbounded without a budget or before any bytes are measured). Summed over the shards each round.
   */
  private egressRoom(config: CoordinatorConfig, reports: readonly ShardCounts[]): number {
    const budgetMbps = config.limits.maxEgressMbps;
    if (budgetMbps === undefined) return Infinity;
    const bps = reports.reduce((a, r) => a + r.egressBpsEdge + r.egressBpsNodes, 0);
    const sessions = reports.reduce((a, r) => a + r.active + r.reserved, 0);
    const room = budgetMbps * 1e6 - bps;
    if (room <= 0) return 0;
    if (bps <= 0 || sessions === 0) return Infinity;
    return Math.floor(room / (bps / sessions));
  }
}
