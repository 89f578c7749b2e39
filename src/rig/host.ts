/**
 * The host side of one rig boot: a fresh results directory with the job in it, QEMU started on
 * the topology with a time limit (killed — only that QEMU process — when it runs over), the
 * serial console kept as `console.log`, and the guest's `results.json` read back and checked.
 * @module
 */

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { firstLine, type GuestResults, makeJob, parseResults, toJson } from './job.ts';
import { type BootPaths, qemuArgv } from './qemu.ts';
import type { RigTopology } from './topologies.ts';

export interface BootOptions extends Omit<BootPaths, 'outDir'> {
  /** Parent of the per-topology results directories. */
  resultsDir: string;
  timeoutMs: number;
  qemu: string;
}

export interface BootOutcome {
  topology: string;
  outDir: string;
  scenarios: string[];
  /** Wall time of the whole boot, QEMU start to exit. */
  ms: number;
  results: GuestResults | null;
  /** Why the boot as a whole went wrong (timeout, no results, guest error), or null. */
  problem: string | null;
}

export async function bootTopology(
  t: RigTopology,
  scenarios: string[],
  o: BootOptions,
): Promise<BootOutcome> {
  const outDir = join(o.resultsDir, t.name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'job.json'), toJson(makeJob(t, scenarios)));
  const argv = qemuArgv(t, { ...o, outDir });
  writeFileSync(join(outDir, 'qemu.argv'), `${[o.qemu, ...argv].map(shellQuote).join(' ')}\n`);

  const started = performance.now();
  const { code, timedOut } = await runQemu(o.qemu, argv, join(outDir, 'console.log'), o.timeoutMs);
  const ms = performance.now() - started;

  let results: GuestResults | null = null;
  const problems: string[] = [];
  const untar = unpackDump(outDir);
  if (untar) problems.push(untar);
  if (timedOut) problems.push(`timed out after ${(o.timeoutMs / 1000).toFixed(0)} s`);
  else if (code !== 0) problems.push(`QEMU exited ${code}`);
  const resultsFile = join(outDir, 'results.json');
  if (existsSync(resultsFile)) {
    try {
      results = parseResults(readFileSync(resultsFile, 'utf8'));
      if (results.errors.length > 0) problems.push(`guest error: ${results.errors[0]?.split('\n')[0]}`);
    } catch (e) {
      problems.push(`results.json unreadable: ${firstLine(e)}`);
    }
  } else {
    const tail = consoleTail(join(outDir, 'console.log'));
    problems.push(`no results.json${tail ? ` (console: ${tail})` : ''}`);
  }
  return {
    topology: t.name,
    outDir,
    scenarios,
    ms,
    results,
    problem: problems.length > 0 ? problems.join('; ') : null,
  };
}

/** sysfs.tar → sysfs/ (symlinks kept: the dump is read back through them). */
function unpackDump(outDir: string): string | null {
  const tar = join(outDir, 'sysfs.tar');
  if (!existsSync(tar)) return null;
  const r = spawnSync('tar', ['-C', outDir, '-xf', tar], { encoding: 'utf8' });
  if (r.status !== 0) return `sysfs.tar not unpacked: ${r.stderr || r.error?.message || `exit ${r.status}`}`;
  rmSync(tar);
  return null;
}

function runQemu(
  qemu: string,
  argv: string[],
  logFile: string,
  timeoutMs: number,
): Promise<{ code: number | null; timedOut: boolean }> {
  const log = openSync(logFile, 'w');
  return new Promise((resolve) => {
    const child = spawn(qemu, argv, { stdio: ['ignore', log, log] });
    let timedOut = false;
    let finished = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    // 'error' (spawn failed) and 'exit' can both fire: finish once.
    const done = (code: number | null) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      closeSync(log);
      resolve({ code, timedOut });
    };
    child.on('error', (e) => {
      writeFileSync(logFile, `spawn ${qemu}: ${e.message}\n`, { flag: 'a' });
      done(null);
    });
    child.on('exit', (code) => done(code));
  });
}

const ESC = String.fromCharCode(0x1b);

/** The last meaningful console line (a panic message, the init's last words). */
function consoleTail(file: string): string | null {
  try {
    const lines = readFileSync(file, 'latin1')
      // SeaBIOS clears the screen with escape sequences; drop them.
      .replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}c`, 'g'), '')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    return lines.at(-1) ?? null;
  } catch {
    return null;
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./,:=+-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}
