/**
 * Where a scenario runs: the simulated kernel (virtual time, fault injection) or any other
 * `KernelHost` — such as the real kernel in the QEMU rig — timed by the wall clock.
 * @module
 */

import { performance } from 'node:perf_hooks';
import { KernelError, type KernelHost } from '../kernel/syscalls.ts';
import type { Era } from '../pci/era.ts';
import type { HostDesc } from '../pci/model.ts';
import { type KernelFault, SimKernel } from '../sim/kernel.ts';
import type { ScenarioTarget } from './run.ts';

export function simTarget(kernel: SimKernel): ScenarioTarget & { kernel: SimKernel } {
  return {
    kind: 'sim',
    kernel,
    host: kernel,
    now: () => kernel.clock.now(),
    inject: (fault) => {
      // Scenario files name the function `device:` (as every other step does) or `bdf:`.
      const { device, ...rest } = fault as { device?: unknown };
      const f = (device === undefined ? rest : { ...rest, bdf: device }) as KernelFault;
      try {
        kernel.inject(f);
      } catch (e) {
        throw new KernelError('EINVAL', 'fault', e instanceof Error ? e.message : String(e));
      }
    },
  };
}

export function newSimTarget(desc: HostDesc, era: Era): ScenarioTarget & { kernel: SimKernel } {
  return simTarget(new SimKernel(desc, { era }));
}

export function wallClockTarget(host: KernelHost): ScenarioTarget {
  return { kind: 'linux', host, now: () => performance.now() };
}
