import type { CarebridgeMetrics } from '../observability/metrics.js';

/** Counts per source in one interval. */
export interface TrafficPoint {
  received: number;
  acked: number;
  rejected: number;
  filtered: number;
}

export interface TrafficSeries {
  /** Interval ends, epoch seconds. */
  t: number[];
  sources: Record<string, { received: number[]; acked: number[]; rejected: number[]; filtered: number[] }>;
}

type Totals = Map<string, TrafficPoint>;

const zero = (): TrafficPoint => ({ received: 0, acked: 0, rejected: 0, filtered: 0 });

/**
 * Reads the per-source receive counters every interval and keeps the differences: the Overview's
 * "over time" charts. Held in memory (one hour at 10 s by default); a restart starts it again,
 * as Prometheus would show a counter reset. `acked` counts what got a positive ACK: accepted,
 * duplicates, filtered (accepted and kept, nothing to convert or route).
 */
export class TrafficSampler {
  private readonly times: number[] = [];
  private readonly points: Map<string, TrafficPoint>[] = [];
  private last: Totals | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metrics: CarebridgeMetrics,
    private readonly options: { intervalMs?: number; keep?: number } = {},
  ) {}

  start(): void {
    const interval = this.options.intervalMs ?? 10_000;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), interval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async totals(): Promise<Totals> {
    const totals: Totals = new Map();
    const of = (source: string) => {
      let t = totals.get(source);
      if (!t) totals.set(source, (t = zero()));
      return t;
    };
    for (const v of (await this.metrics.messagesReceived.get()).values) {
      const source = String(v.labels.source ?? '');
      const outcome = String(v.labels.outcome ?? '');
      if (outcome === 'unavailable') continue; // nothing was stored, the sender retries
      const t = of(source);
      t.received += v.value;
      if (outcome === 'rejected') t.rejected += v.value;
      else t.acked += v.value;
      if (outcome === 'filtered') t.filtered += v.value;
    }
    // A separate counter of filtered messages (kept and ACKed, nothing to do), when the engine has one.
    const filtered = this.metrics.registry.getSingleMetric('carebridge_messages_filtered_total');
    if (filtered) {
      for (const v of (await filtered.get()).values) {
        if (typeof v.labels.source === 'string') of(v.labels.source).filtered += v.value;
      }
    }
    return totals;
  }

  /** One interval: the counters' growth since the previous sample. */
  async sample(now = Date.now()): Promise<void> {
    const totals = await this.totals();
    if (this.last) {
      const delta = new Map<string, TrafficPoint>();
      for (const [source, t] of totals) {
        const before = this.last.get(source) ?? zero();
        delta.set(source, {
          received: Math.max(0, t.received - before.received),
          acked: Math.max(0, t.acked - before.acked),
          rejected: Math.max(0, t.rejected - before.rejected),
          filtered: Math.max(0, t.filtered - before.filtered),
        });
      }
      this.times.push(Math.round(now / 1000));
      this.points.push(delta);
      const keep = this.options.keep ?? 360;
      while (this.times.length > keep) {
        this.times.shift();
        this.points.shift();
      }
    }
    this.last = totals;
  }

  /** The kept intervals, one series per source (sources named in `include` even when silent). */
  series(include: readonly string[] = []): TrafficSeries {
    const names = new Set(include);
    for (const p of this.points) for (const s of p.keys()) names.add(s);
    const sources: TrafficSeries['sources'] = {};
    for (const name of [...names].sort()) {
      const s = { received: [] as number[], acked: [] as number[], rejected: [] as number[], filtered: [] as number[] };
      for (const p of this.points) {
        const v = p.get(name) ?? zero();
        s.received.push(v.received);
        s.acked.push(v.acked);
        s.rejected.push(v.rejected);
        s.filtered.push(v.filtered);
      }
      sources[name] = s;
    }
    return { t: [...this.times], sources };
  }
}

/** Quantile q of a Prometheus histogram's cumulative buckets (linear within the bucket, as histogram_quantile). */
export function histogramQuantile(q: number, buckets: ReadonlyArray<{ le: number; count: number }>): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.length ? sorted[sorted.length - 1].count : 0;
  if (total === 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket === 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
