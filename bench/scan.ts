/**
 * `scan --json` against `lspci -tv` on the same sysfs dump, both as the processes a user runs
 * (wall time from spawn to exit, output to /dev/null), interleaved so that both see the same
 * machine state; plus the in-process cost of the inventory and its JSON at every size (100,000
 * functions on the simulator's in-memory sysfs, as no dump is written at that size).
 * @module
 */

import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { inventoryFrom } from '../src/host/inventory.ts';
import { readSysfsHost } from '../src/host/read-sysfs.ts';
import type { SysfsReader } from '../src/kernel/sysfs.ts';
import { DirSysfsReader } from '../src/linux/sysfs-reader.ts';
import { scanDocument } from '../src/render/json.ts';
import { jsonChunks } from '../src/render/json-text.ts';
import { SimKernel } from '../src/sim/kernel.ts';
import { BENCH_DIR, DUMP_SIZES, dumpPath, largeHost, ROOT, SIZES } from './data.ts';
import { median } from './measure.ts';

export interface ProcessComparison {
  functions: number;
  scanMs: number;
  /** `scan` with its text output (the tree and problems, as a person reads it). */
  scanTextMs: number;
  lspciMs: number;
  /** `vfio-reset --help`: Node's start-up and loading the CLI, the floor of any command. */
  startupMs: number;
  rounds: number;
}

export interface InProcessScan {
  functions: number;
  source: 'dump' | 'memory';
  /** Reading sysfs into a description (`readSysfsHost`, config space only where needed). */
  readMs: number;
  /** Everything computed from it (`inventoryFrom`): tree, scopes, problems. */
  computeMs: number;
  jsonMs: number;
  jsonMiB: number;
}

export type LspciStatus = { ok: true } | { ok: false; why: string };

/** Installs pciutils when lspci is missing and we are root (as CI is); otherwise says why not. */
export function ensureLspci(log: (s: string) => void): LspciStatus {
  if (spawnSync('lspci', ['--version']).status === 0) return { ok: true };
  if (process.getuid?.() !== 0)
    return {
      ok: false,
      why: 'lspci is not installed and installing pciutils needs root (apt-get install pciutils)',
    };
  log('lspci missing: apt-get install pciutils');
  const apt = (args: string[]) =>
    spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'] }).status;
  if (apt(['update', '-qq']) !== 0 || apt(['install', '-y', '-qq', 'pciutils']) !== 0)
    return { ok: false, why: 'apt-get install pciutils failed' };
  return spawnSync('lspci', ['--version']).status === 0
    ? { ok: true }
    : { ok: false, why: 'pciutils installed but lspci still does not run' };
}

/**
 * The CLI as ES modules, so process start-up is Node's alone (no TypeScript loader). Split into
 * chunks as the CLI loads it: each command's action is a dynamic import, so a run loads only its
 * command's code, as the tsc build does. The directory is emptied first: chunk names are hashes.
 */
async function bundleCli(): Promise<string> {
  const dir = join(BENCH_DIR, 'cli');
  rmSync(dir, { recursive: true, force: true });
  await build({
    entryPoints: { cli: join(ROOT, 'src/cli/main.ts') },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'error',
  });
  return join(dir, 'cli.mjs');
}

function timedRun(cmd: string, args: string[]): number {
  const devNull = openSync('/dev/null', 'w');
  try {
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', devNull, 'pipe'] });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return ms;
  } finally {
    closeSync(devNull);
  }
}

export async function compareWithLspci(n: number, rounds: number): Promise<ProcessComparison> {
  const cli = await bundleCli();
  const dump = dumpPath(n);
  if (!existsSync(dump)) throw new Error(`${dump} is missing; run the benchmark's data step first`);
  const scan = () => timedRun(process.execPath, [cli, '--host', `linux:${dump}`, '--json', 'scan']);
  const lspci = () => timedRun('lspci', ['-tv', '-A', 'linux-sysfs', '-O', `sysfs.path=${dump}/bus/pci`]);
  const scanText = () => timedRun(process.execPath, [cli, '--host', `linux:${dump}`, 'scan']);
  const startup = () => timedRun(process.execPath, [cli, '--help']);
  scan();
  lspci(); // warm the page cache for both
  const s: number[] = [];
  const l: number[] = [];
  const t: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < rounds; i++) {
    s.push(scan());
    l.push(lspci());
    t.push(scanText());
    h.push(startup());
  }
  return {
    functions: n,
    scanMs: median(s),
    scanTextMs: median(t),
    lspciMs: median(l),
    startupMs: median(h),
    rounds,
  };
}

function timeScan(sys: SysfsReader, functions: number, source: InProcessScan['source'], rounds: number) {
  const read: number[] = [];
  const compute: number[] = [];
  const js: number[] = [];
  let bytes = 0;
  for (let i = 0; i < rounds; i++) {
    // What takeInventory does, in its two halves.
    const t0 = performance.now();
    const host = readSysfsHost(sys, sys.origin, { config: 'needed', attributes: 'inventory' });
    const t1 = performance.now();
    const inventory = inventoryFrom(host, sys.origin, { era: '6.1' });
    const t2 = performance.now();
    let chars = 0; // as the CLI writes it: in chunks (a 100,000-function scan is over 1 GB)
    for (const chunk of jsonChunks(scanDocument(inventory))) chars += chunk.length;
    const t3 = performance.now();
    if (inventory.functions.length !== functions)
      throw new Error(`scan saw ${inventory.functions.length} functions`);
    read.push(t1 - t0);
    compute.push(t2 - t1);
    js.push(t3 - t2);
    bytes = chars;
  }
  return {
    functions,
    source,
    readMs: median(read),
    computeMs: median(compute),
    jsonMs: median(js),
    jsonMiB: bytes / 2 ** 20,
  };
}

/** In-process scan at every size: dumps through the real reader, 100,000 in memory. */
export function inProcessScans(rounds: number, sizes: readonly number[] = SIZES): InProcessScan[] {
  return sizes.map((n) =>
    (DUMP_SIZES as readonly number[]).includes(n)
      ? timeScan(new DirSysfsReader(dumpPath(n)), n, 'dump', rounds)
      : timeScan(new SimKernel(largeHost(n)).sysfs, n, 'memory', Math.min(rounds, 2)),
  );
}
