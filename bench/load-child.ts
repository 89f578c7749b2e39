/**
 * Child process of the load benchmark (a fresh process, so its peak memory is the load's own):
 * loads a topology file, links the tree, computes IOMMU groups and reset methods, and prints one
 * JSON line with the phase times and memory. Usage: node --import tsx bench/load-child.ts <file>
 * @module
 */

import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { computeIommuGroups } from '../src/pci/iommu-groups.ts';
import { initResetMethods } from '../src/pci/reset-methods.ts';
import { Topology } from '../src/pci/topology.ts';
import { loadTopologyFile } from '../src/topology/load.ts';

export interface LoadResult {
  /** The topology file's format (by its name). */
  format: 'yaml' | 'json';
  functions: number;
  groups: number;
  loadMs: number;
  buildMs: number;
  groupsMs: number;
  methodsMs: number;
  /** Resident set before loading (Node itself and the modules), MiB. */
  baselineRssMiB: number;
  /** Peak resident set of the process, MiB. */
  maxRssMiB: number;
  /** JS heap in use after the computation, the results still referenced, MiB. */
  heapUsedMiB: number;
}

const MiB = 2 ** 20;

/**
 * The process's peak resident set: VmHWM of /proc/self/status, which exec starts afresh.
 * (getrusage's maxrss is not: a child created by fork reports its parent's peak until it exceeds it.)
 */
function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return (Number(m[1]) * 1024) / MiB;
  } catch {
    // not Linux: fall back to getrusage below
  }
  return (process.resourceUsage().maxRSS * 1024) / MiB;
}
const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: load-child.ts <topology-file>\n');
  process.exit(2);
}
const baselineRssMiB = process.memoryUsage().rss / MiB;
const t0 = performance.now();
const desc = loadTopologyFile(file);
const t1 = performance.now();
const topo = Topology.build(desc);
const t2 = performance.now();
const groups = computeIommuGroups(topo);
const t3 = performance.now();
const methods = initResetMethods(topo);
const t4 = performance.now();
const result: LoadResult = {
  format: file.endsWith('.json') ? 'json' : 'yaml',
  functions: topo.functions.length,
  groups: groups.ids().length,
  loadMs: t1 - t0,
  buildMs: t2 - t1,
  groupsMs: t3 - t2,
  methodsMs: t4 - t3,
  baselineRssMiB,
  maxRssMiB: peakRssMiB(),
  heapUsedMiB: process.memoryUsage().heapUsed / MiB,
};
if (methods.size !== topo.functions.length) throw new Error('reset methods missing for some functions');
process.stdout.write(`${JSON.stringify(result)}\n`);
