/**
 * The figures each reliability suite reports (cases tried, invariant checks run, faults injected),
 * for `npm run docs:reliability`. A suite counts as it runs; when the environment names a directory
 * in `VFIO_RESET_RELIABILITY_OUT`, the figures are written there as `<suite>.json` when the test
 * process exits (node --test runs each file in its own process). Without it nothing is written.
 *
 * `VFIO_RESET_SEED` fixes the seed of every random run (the docs command sets it, so the committed
 * figures are reproducible); otherwise each run draws a new one and prints it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SuiteFigures {
  /** Adds `n` to a named figure. */
  add(key: string, n?: number): void;
  /** Sets a figure outright (sizes, seeds). */
  set(key: string, value: number | string): void;
  get(key: string): number;
}

const suites = new Map<string, Map<string, number | string>>();

export function figures(suite: string): SuiteFigures {
  let m = suites.get(suite);
  if (!m) {
    m = new Map();
    suites.set(suite, m);
  }
  const map = m;
  return {
    add: (key, n = 1) => map.set(key, (Number(map.get(key)) || 0) + n),
    set: (key, value) => map.set(key, value),
    get: (key) => Number(map.get(key)) || 0,
  };
}

process.on('exit', () => {
  const dir = process.env.VFIO_RESET_RELIABILITY_OUT;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  for (const [suite, m] of suites)
    writeFileSync(join(dir, `${suite}.json`), `${JSON.stringify(Object.fromEntries(m), null, 2)}\n`);
});

/** The seed of this run: `VFIO_RESET_SEED`, else a fresh one (printed, so a failure can be replayed). */
export function runSeed(suite: string): number {
  const fixed = process.env.VFIO_RESET_SEED;
  const seed = fixed !== undefined && fixed !== '' ? Number(fixed) : Math.floor(Math.random() * 0x7fffffff);
  if (!Number.isInteger(seed)) throw new Error(`VFIO_RESET_SEED=${fixed} is not an integer`);
  if (fixed === undefined) console.error(`${suite}: seed ${seed} (replay with VFIO_RESET_SEED=${seed})`);
  figures(suite).set('seed', fixed === undefined ? 'random' : seed);
  return seed;
}
