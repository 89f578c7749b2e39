/**
 * dev_sets (S0–S3) and the close-time dev_set reset (O4). Read from drivers/vfio/vfio_main.c
 * (`vfio_assign_device_set`, `vfio_device_set_open_count`) and drivers/vfio/pci/vfio_pci_core.c
 * (`vfio_pci_core_register_device`, `vfio_pci_dev_set_resettable`,
 * `vfio_pci_dev_set_needs_reset`, `vfio_pci_dev_set_try_reset`).
 * @module
 */

import { hotResetScope, probeResetSlot } from '../../pci/reset-scope.ts';
import type { PciFunction } from '../../pci/topology.ts';
import type { DevSet, KernelCtx, VfioDevice } from './model.ts';
import { idle, wake } from './power.ts';

/**
 * S1, evaluated once at bind: a function on a root bus or an SR-IOV VF is its own set (the VF
 * case reached 6.1 with the stable back-port of "vfio/pci: Separate SR-IOV VF dev_set", 6.1.148);
 * a function whose slot can be reset shares the slot's set; anything else shares its bus's set.
 */
export function devSetKey(ctx: KernelCtx, fn: PciFunction): string {
  if (fn.bus.parent === null || fn.desc.virtfn) return `dev:${fn.name}`;
  if (fn.slot && probeResetSlot(fn.slot, ctx.era) === 0)
    return `slot:${fn.slot.bus.name}:${fn.slot.desc.name}`;
  return `bus:${fn.bus.name}`;
}

/** S2: joins (or creates) the set for `key`; members stay in bind order. */
export function joinDevSet(ctx: KernelCtx, key: string): DevSet {
  let set = ctx.devSets.get(key);
  if (!set) {
    set = { key, members: [] };
    ctx.devSets.set(key, set);
  }
  return set;
}

export function leaveDevSet(ctx: KernelCtx, dev: VfioDevice): void {
  const set = dev.devSet;
  if (!set) return;
  set.members = set.members.filter((m) => m !== dev);
  if (set.members.length === 0) ctx.devSets.delete(set.key);
}

/**
 * H6 / O4: `vfio_pci_dev_set_resettable` — judged on the set's *first* member: its slot or bus
 * must be resettable and every function that reset would hit must be a member of this set.
 * Returns the member to hand to `pci_reset_bus`, or null.
 */
export function resettable(ctx: KernelCtx, set: DevSet): VfioDevice | null {
  const first = set.members[0];
  if (!first) return null;
  const scope = hotResetScope(first.fn, ctx.era);
  if (scope.kind === 'none') return null;
  for (const f of scope.functions) if (ctx.devices.get(f.name)?.devSet !== set) return null;
  return first;
}

/**
 * O4: at every last close, reset the slot or bus when nobody else has a member open (the closing
 * device still counts one), some member needs a reset, and the set is resettable. Silent.
 */
export function tryDevSetReset(ctx: KernelCtx, set: DevSet | null): void {
  if (!set) return;
  const open = set.members.reduce((n, m) => n + m.openCount, 0);
  if (open > 1 || !set.members.some((m) => m.needsReset)) return;
  const first = resettable(ctx, set);
  if (!first) return;
  for (const m of set.members) wake(ctx, m);
  const r = ctx.pci.resetBus(first.bdf);
  for (const m of set.members) {
    if (r.errno === 0) m.needsReset = false;
    idle(ctx, m);
  }
}
