/**
 * The benchmark inputs, generated once into `.bench/` (gitignored) and reused while the code
 * that shapes them is unchanged: topology files for every size, and sysfs dumps of the simulated
 * host for the sizes a dump is practical at (a dump holds ~15 files per function; 100,000
 * functions would be 1.5 million files, so that size is measured on the in-memory projection).
 * @module
 */

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { writeSysfsDump } from '../src/host/dump.ts';
import type { HostDesc } from '../src/pci/model.ts';
import { SimKernel } from '../src/sim/kernel.ts';
import { generateLargeHost } from '../src/topology/generate-large.ts';
import { hostToTopologyYaml } from '../src/topology/write.ts';

/** The repository root: this file runs from bench/ (tsx) or bundled from .bench/, both one level down. */
export const ROOT = resolve(import.meta.dirname, '..');
export const BENCH_DIR = join(ROOT, '.bench');
/** The host sizes every scaling table shows. */
export const SIZES = [256, 4096, 100_000] as const;
/** Sizes written as sysfs dumps on disk. */
export const DUMP_SIZES = [256, 4096] as const;

/** Sources whose change makes the cached inputs stale. */
const SHAPERS = [
  'src/topology/generate-large.ts',
  'src/topology/write.ts',
  'src/sim/sysfs.ts',
  'src/host/dump.ts',
  'src/pci/config-space.ts',
];

function stamp(): string {
  const h = createHash('sha256');
  for (const f of SHAPERS) h.update(readFileSync(join(ROOT, f)));
  return h.digest('hex').slice(0, 16);
}

export function largeHost(functions: number): HostDesc {
  return generateLargeHost({ functions, seed: 1 });
}

export type TopologyFormat = 'yaml' | 'json';
export const topologyPath = (n: number, format: TopologyFormat = 'yaml') =>
  join(BENCH_DIR, `large-${n}.${format}`);
export const dumpPath = (n: number) => join(BENCH_DIR, `dump-${n}`);

/** Makes sure every input exists and matches the current code; says on stderr what it writes. */
export function ensureBenchData(log: (s: string) => void): void {
  mkdirSync(BENCH_DIR, { recursive: true });
  const stampFile = join(BENCH_DIR, 'stamp');
  const want = stamp();
  const fresh = existsSync(stampFile) && readFileSync(stampFile, 'utf8') === want;
  if (
    fresh &&
    SIZES.every((n) => existsSync(topologyPath(n)) && existsSync(topologyPath(n, 'json'))) &&
    DUMP_SIZES.every((n) => existsSync(dumpPath(n)))
  )
    return;
  rmSync(stampFile, { force: true });
  for (const n of SIZES) {
    log(`writing ${topologyPath(n)}`);
    const yaml = hostToTopologyYaml(largeHost(n));
    writeFileSync(topologyPath(n), yaml);
    // The same file as JSON (which the loader reads with JSON.parse): the writer speaks YAML.
    writeFileSync(topologyPath(n, 'json'), JSON.stringify(parseYaml(yaml), null, 1));
  }
  for (const n of DUMP_SIZES) {
    log(`writing the sysfs dump ${dumpPath(n)}`);
    rmSync(dumpPath(n), { recursive: true, force: true });
    writeSysfsDump(new SimKernel(largeHost(n)).sysfs, dumpPath(n));
  }
  writeFileSync(stampFile, want);
}
