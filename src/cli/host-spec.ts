/**
 * `--host` values: `linux` (this machine's /sys), `linux:<dir>` (a sysfs copy or dump, read as
 * is), `sim:<file.yaml|json>` (a topology file in the simulator) and `sim:<dir>` (a sysfs dump
 * loaded into the simulator, with groups and reset methods recomputed by the model).
 * @module
 */

import type { SysfsReader } from '../kernel/sysfs.ts';
import { DirSysfsReader } from '../linux/sysfs-reader.ts';
import type { Era } from '../pci/era.ts';
import type { SimKernel } from '../sim/kernel.ts';
import { UsageError } from './errors.ts';

export type HostSpec = { kind: 'linux'; root: string } | { kind: 'sim'; path: string };

export function parseHostSpec(text: string): HostSpec {
  if (text === 'linux') return { kind: 'linux', root: '/sys' };
  if (text.startsWith('linux:') && text.length > 6) return { kind: 'linux', root: text.slice(6) };
  if (text.startsWith('sim:') && text.length > 4) return { kind: 'sim', path: text.slice(4) };
  throw new UsageError(
    `--host '${text}' is not understood; use linux, linux:<sysfs-dir>, sim:<topology.yaml> or sim:<sysfs-dump-dir>`,
  );
}

export interface OpenedHost {
  spec: HostSpec;
  /** How the host is named in output: `/sys`, `sim:examples/workstation.yaml` … */
  origin: string;
  reader: SysfsReader;
  /** The simulated kernel, for `sim:` hosts. */
  sim: SimKernel | null;
}

/** A `linux` host is read as it is; a `sim:` one loads the simulator first (open-sim-host.ts), hence async. */
export async function openHost(spec: HostSpec, era: Era): Promise<OpenedHost> {
  if (spec.kind === 'linux')
    return { spec, origin: spec.root, reader: new DirSysfsReader(spec.root), sim: null };
  const { bootSimHost } = await import('./open-sim-host.ts');
  const sim = bootSimHost(spec.path, era);
  return { spec, origin: `sim:${spec.path}`, reader: sim.sysfs, sim };
}
