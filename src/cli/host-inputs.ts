/**
 * What `plan`, `bind` and `restore` read from the chosen host before deciding anything: its sysfs
 * once (the description the simulator copies, and the inventory), the reset capabilities QEMU
 * reads from config space, and what the host itself is using — from `linux/safety.ts` on a
 * Linux host, assumed from device classes on a simulated one.
 * @module
 */

import { type Inventory, inventoryFrom } from '../host/inventory.ts';
import { readSysfsHost, type SysfsHost } from '../host/read-sysfs.ts';
import type { KernelHost } from '../kernel/syscalls.ts';
import { openLinuxHost } from '../linux/host.ts';
import { checkDestructive, type Refusal, refusalText } from '../linux/safety.ts';
import { assumedHostUse, type HostUse, type HostUseLookup } from '../plan/host-use.ts';
import type { ResetCapabilities } from '../vfio/strategy.ts';
import { resetCapabilitiesOf } from '../vfio/strategy.ts';
import { findFunction, type Globals, openGlobalHost } from './context.ts';
import { CommandError } from './errors.ts';
import type { OpenedHost } from './host-spec.ts';

export interface HostInputs {
  opened: OpenedHost;
  read: SysfsHost;
  inv: Inventory;
  capabilities: (bdf: string) => ResetCapabilities;
  hostUse: HostUseLookup;
  /** Real hosts: the safety refusals that are not host use (not root, IOMMU off, unreadable mounts …). */
  safety: (bdf: string) => Refusal[];
}

const HOST_USE_CODES = new Set(['boot-vga', 'mounted-storage', 'default-route']);

function hostUseOf(r: Refusal): HostUse | null {
  if (!('reach' in r) || r.reach !== 'target') return null;
  switch (r.code) {
    case 'boot-vga':
      return { code: 'boot-vga', assumed: false };
    case 'mounted-storage':
      return {
        code: 'mounted-storage',
        assumed: false,
        disk: r.disk,
        mounts: r.mounts.map((m) => `${m.source} on ${m.target}`),
      };
    case 'default-route':
      return { code: 'default-route', assumed: false, iface: r.iface };
    default:
      return null;
  }
}

/** `f` asked at most once per BDF (a plan asks the same device again and again). */
function perBdf<T>(f: (bdf: string) => T): (bdf: string) => T {
  const answers = new Map<string, T>();
  return (bdf) => {
    let a = answers.get(bdf);
    if (a === undefined) {
      a = f(bdf);
      answers.set(bdf, a);
    }
    return a;
  };
}

export async function hostInputs(g: Globals): Promise<HostInputs> {
  const opened = await openGlobalHost(g);
  // Every function's config space: plan simulates this host (timing predictions, --what-if), and the
  // simulator needs the capabilities only config space holds.
  const read = readSysfsHost(opened.reader, opened.sim?.host.name, { config: 'all' });
  const inv = inventoryFrom(read, opened.origin, { era: g.era });
  const capabilities = perBdf((bdf) => resetCapabilitiesOf(opened.reader, bdf));
  if (opened.spec.kind !== 'linux')
    return { opened, read, inv, capabilities, hostUse: assumedHostUse(inv), safety: () => [] };
  // A Linux host: the group and target checks of safety.ts (a bind resets nothing, so no bus scope).
  const root = opened.spec.root;
  const check = perBdf((bdf) => checkDestructive(root, '/proc', bdf, { busScope: false }));
  return {
    opened,
    read,
    inv,
    capabilities,
    hostUse: (bdf) => check(bdf).flatMap((r) => hostUseOf(r) ?? []),
    safety: (bdf) => check(bdf).filter((r) => !HOST_USE_CODES.has(r.code)),
  };
}

/** The kernel `bind --yes` and `restore --yes` change: the simulated one, else Linux at the host's root. */
export function kernelToChange(h: HostInputs, save: string | undefined): KernelHost {
  if (save && !h.opened.sim)
    throw new CommandError('VFIO_RESET_E_USAGE', '--save is for simulated hosts only');
  return h.opened.sim ?? openLinuxHost(h.opened.spec.kind === 'linux' ? h.opened.spec.root : '/sys');
}

/** Canonical BDFs of the arguments, each on the host (else the one-line "not on host" error). */
export function requestedBdfs(inv: Inventory, args: readonly string[]): string[] {
  return [...new Set(args.map((a) => findFunction(inv, a).bdf))];
}

export { refusalText };
