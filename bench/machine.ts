/** The machine a benchmark run measured: what the figures depend on. */

import { spawnSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { ffiStatus } from '../src/linux/ioctl.ts';

export interface MachineFacts {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  koffi: string;
  lspci: string;
  cc: string;
  date: string;
  /** 1-minute load average when the run started: the machine is shared, and figures move with it. */
  loadAverage: number;
}

/** First line a command prints with `args`, or `absent` when it cannot run. */
export function toolVersion(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'absent';
  return (r.stdout || r.stderr).split('\n')[0]!.trim();
}

export function machineFacts(): MachineFacts {
  const c = cpus();
  const ffi = ffiStatus();
  return {
    cpu: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    koffi: ffi.ok ? ffi.version : `unavailable (${ffi.reason})`,
    lspci: toolVersion('lspci', ['--version']),
    cc: toolVersion('cc', ['--version']),
    date: new Date().toISOString().slice(0, 10),
    loadAverage: loadavg()[0] ?? 0,
  };
}
