/**
 * The Linux backend's ioctl (koffi) against a C loop of the same ioctl on the same file: an ioctl
 * that needs no hardware — VFIO_GET_API_VERSION on /dev/vfio/vfio when the host has VFIO, else
 * FIONREAD on a FIFO. The C program is compiled here at bench time (never committed). Rounds of
 * C and JS alternate; the fastest round of each is compared.
 * @module
 */

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ffiStatus, ioctl, koffiIoctl } from '../src/linux/ioctl.ts';
import { LinuxSyscalls } from '../src/linux/syscalls.ts';
import { VFIO } from '../src/uapi/ioctl.ts';
import { BENCH_DIR, ROOT } from './data.ts';
import { median } from './measure.ts';

/** asm-generic FIONREAD (x86-64, arm64). */
const FIONREAD = 0x541b;

export interface IoctlComparison {
  call: string;
  path: string;
  /** ns per call, the fastest of the rounds. */
  cNs: number;
  rawNs: number;
  ioctlNs: number;
  syscallsNs: number;
  /** The same, the median round: how much the machine moved the figures during the run. */
  medianNs: { c: number; raw: number; ioctl: number; syscalls: number };
  rounds: number;
  calls: number;
}

export type IoctlComparisonResult = { ok: true; value: IoctlComparison } | { ok: false; why: string };

function target(): { path: string; request: number; arg: 'int' | 'ptr'; call: string } {
  if (existsSync('/dev/vfio/vfio'))
    return {
      path: '/dev/vfio/vfio',
      request: VFIO.GET_API_VERSION,
      arg: 'int',
      call: 'VFIO_GET_API_VERSION',
    };
  const fifo = join(BENCH_DIR, 'ioctl.fifo');
  rmSync(fifo, { force: true });
  if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error(`mkfifo ${fifo} failed`);
  return { path: fifo, request: FIONREAD, arg: 'ptr', call: 'FIONREAD on a FIFO' };
}

function jsRound(calls: number, f: () => unknown): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) f();
  return Number(process.hrtime.bigint() - t) / calls;
}

export function compareIoctlWithC(calls = 200_000, rounds = 7): IoctlComparisonResult {
  const ffi = ffiStatus();
  if (!ffi.ok) return { ok: false, why: `koffi is not usable: ${ffi.reason}` };
  const bin = join(BENCH_DIR, 'ioctl-loop');
  const cc = spawnSync('cc', ['-O2', '-o', bin, join(ROOT, 'bench/c/ioctl-loop.c')], {
    encoding: 'utf8',
  });
  if (cc.error || cc.status !== 0)
    return {
      ok: false,
      why: cc.error
        ? `no C compiler (cc): ${cc.error.message}`
        : `cc could not build the C loop: ${cc.stderr.trim()}`,
    };
  const t = target();
  const sys = new LinuxSyscalls();
  const fd = sys.open(t.path);
  try {
    const arg = t.arg === 'int' ? 0 : new Uint8Array(4);
    const c: number[] = [];
    const raw: number[] = [];
    const wrapped: number[] = [];
    const boundary: number[] = [];
    jsRound(calls, () => koffiIoctl(fd, t.request, arg)); // load koffi, warm the JIT
    for (let r = 0; r < rounds; r++) {
      const run = spawnSync(bin, [t.path, t.request.toString(16), t.arg, String(calls), '1'], {
        encoding: 'utf8',
      });
      if (run.status !== 0) return { ok: false, why: `the C loop failed: ${run.stderr.trim()}` };
      c.push(Number(run.stdout.trim()));
      raw.push(jsRound(calls, () => koffiIoctl(fd, t.request, arg)));
      wrapped.push(jsRound(calls, () => ioctl(fd, t.request, arg)));
      boundary.push(jsRound(calls, () => sys.ioctl(fd, t.request, arg)));
    }
    return {
      ok: true,
      value: {
        call: t.call,
        path: t.path,
        // The fastest round of each: other jobs on a shared machine only ever add time to a round,
        // and the rounds alternate, so the best rounds of the four saw the quietest machine alike.
        cNs: Math.min(...c),
        rawNs: Math.min(...raw),
        ioctlNs: Math.min(...wrapped),
        syscallsNs: Math.min(...boundary),
        medianNs: { c: median(c), raw: median(raw), ioctl: median(wrapped), syscalls: median(boundary) },
        rounds,
        calls,
      },
    };
  } finally {
    sys.close(fd);
  }
}
