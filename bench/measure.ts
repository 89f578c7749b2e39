/**
 * One timing helper over tinybench: a task runs `batch` calls per sample (so calls of a few
 * microseconds are not lost in timer overhead) and the result is per call.
 * @module
 */

import { Bench } from 'tinybench';

export interface Timing {
  /** Median per call, microseconds. */
  medianUs: number;
  /** Mean per call, microseconds. */
  meanUs: number;
  /** 99th percentile of the per-sample means, microseconds. */
  p99Us: number;
  /** Calls per second, from the mean. */
  perSecond: number;
  samples: number;
}

export interface MeasureOptions {
  /** Calls per sample (default 1). */
  batch?: number;
  /** Minimum time spent sampling, ms (default 400). */
  timeMs?: number;
  /** Minimum samples (default 20). */
  iterations?: number;
}

export async function measure(fn: () => unknown, opts: MeasureOptions = {}): Promise<Timing> {
  const batch = opts.batch ?? 1;
  const bench = new Bench({
    time: opts.timeMs ?? 400,
    iterations: opts.iterations ?? 20,
    warmupTime: Math.min(200, opts.timeMs ?? 400),
    throws: true,
  });
  bench.add('task', () => {
    for (let i = 0; i < batch; i++) fn();
  });
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`benchmark task ended in state ${r.state}`);
  const perCallUs = (ms: number) => (ms * 1000) / batch;
  return {
    medianUs: perCallUs(r.latency.p50),
    meanUs: perCallUs(r.latency.mean),
    p99Us: perCallUs(r.latency.p99),
    perSecond: (1000 * batch) / r.latency.mean,
    samples: r.latency.samplesCount,
  };
}

/** Median of a list of numbers (the middle one, or the mean of the two middle ones). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
