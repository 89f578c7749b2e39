/**
 * Slot and bus reset: whether the PCI core can do one (P1, P2), which one `pci_reset_bus` picks (P3),
 * and which functions it hits, in the order VFIO lists them (Q1–Q3, I2, I3). Pure functions of the
 * running topology (every function linked, every slot driver registered).
 *
 * Read from drivers/pci/pci.c (6.1.y, 6.18): `pci_slot_reset`/`pci_probe_reset_slot`,
 * `pci_bus_reset`/`pci_probe_reset_bus`, `pci_slot_resettable`, `pci_bus_resettable`,
 * `pci_reset_bus`; drivers/vfio/pci/vfio_pci_core.c: `vfio_pci_for_each_slot_or_bus`,
 * `vfio_pci_dev_below_slot`, and `pci_walk_bus` (drivers/pci/bus.c); [2013] 3.12/3.13.
 * @module
 */

import type { Era } from './era.ts';
import { type SlotDriver, slotDriverHasResetSlot } from './model.ts';
import { type PciBus, type PciFunction, type PciSlot, Topology } from './topology.ts';

/** Why `pci_probe_reset_bus` fails (data; rendering is elsewhere). */
export type BusResetBlocker =
  /** `bus->self` is null on a root bus: no bridge to assert SBR on. */
  | { code: 'root-bus'; bus: string }
  /** `bus->self` is null on an SR-IOV virtual bus (VFs beyond the PF's bus number). */
  | { code: 'virtual-bus'; bus: string }
  /** `on` (a BDF) carries NO_BUS_RESET: the bridge above the bus, or a function on or below it. */
  | { code: 'no-bus-reset'; on: string; bus: string };

/** Why `pci_probe_reset_slot` fails. */
export type SlotResetBlocker =
  | { code: 'no-slot' }
  /** The slot's driver offers no `reset_slot` (acpiphp, shpchp, the ACPI `pci_slot` placeholder). */
  | { code: 'no-reset-slot'; slot: string; driver: SlotDriver }
  /** `on` carries NO_BUS_RESET: the bridge above `slot->bus`, a function in the slot, or one below it. */
  | { code: 'no-bus-reset'; on: string; slot: string }
  /**
   * The kernel would slot-reset here (a reset-capable slot on a bus without a bridge, as on s390
   * zPCI), but scopes in this model always name the bridge above; such slots are treated as unusable.
   */
  | { code: 'slot-without-bridge'; slot: string };

/** First function that makes `pci_bus_resettable(bus)` false, in the kernel's check order. */
function busNoResetCulprit(bus: PciBus): PciFunction | null {
  if (bus.self?.quirks.has('NO_BUS_RESET')) return bus.self;
  for (const d of bus.devices) {
    if (d.quirks.has('NO_BUS_RESET')) return d;
    if (d.subordinate) {
      const below = busNoResetCulprit(d.subordinate);
      if (below) return below;
    }
  }
  return null;
}

/** First function that makes `pci_slot_resettable(slot)` false. */
function slotNoResetCulprit(slot: PciSlot): PciFunction | null {
  const self = slot.bus.self;
  if (self?.quirks.has('NO_BUS_RESET')) return self;
  for (const d of slot.bus.devices) {
    if (d.slot !== slot) continue;
    if (d.quirks.has('NO_BUS_RESET')) return d;
    if (d.subordinate) {
      const below = busNoResetCulprit(d.subordinate);
      if (below) return below;
    }
  }
  return null;
}

/**
 * P1 with the reason. [6.1/6.6+] `pci_slot_reset(slot, PROBE)`: ENOTTY for a null slot, an
 * unresettable slot (NO_BUS_RESET on the bridge above `slot->bus`, on a function of the slot, or
 * anywhere below a bridge in the slot), or a slot whose hotplug driver has no `reset_slot`.
 * [2013] only the null and `reset_slot` tests (NO_BUS_RESET did not exist).
 */
export function slotResetBlocker(slot: PciSlot | null, era: Era): SlotResetBlocker | null {
  if (!slot) return { code: 'no-slot' };
  if (era !== '2013') {
    const culprit = slotNoResetCulprit(slot);
    if (culprit) return { code: 'no-bus-reset', on: culprit.name, slot: slot.desc.name };
  }
  if (!slotDriverHasResetSlot(slot.desc.driver))
    return { code: 'no-reset-slot', slot: slot.desc.name, driver: slot.desc.driver };
  return null;
}

/** P1: `pci_probe_reset_slot`. */
export function probeResetSlot(slot: PciSlot | null, era: Era): 0 | 'ENOTTY' {
  return slotResetBlocker(slot, era) ? 'ENOTTY' : 0;
}

/**
 * P2 with the reason. `pci_bus_reset(bus, PROBE)`: ENOTTY without `bus->self`; [6.1/6.6+] also when
 * `bus->self` or any function on or below the bus has NO_BUS_RESET. [2013] only the `bus->self` test.
 */
export function busResetBlocker(bus: PciBus, era: Era): BusResetBlocker | null {
  if (!bus.self) {
    const virtual = bus.devices.length > 0 && bus.devices.every((d) => d.desc.virtfn);
    return { code: virtual ? 'virtual-bus' : 'root-bus', bus: bus.name };
  }
  if (era === '2013') return null;
  const culprit = busNoResetCulprit(bus);
  return culprit ? { code: 'no-bus-reset', on: culprit.name, bus: bus.name } : null;
}

/** P2: `pci_probe_reset_bus`. */
export function probeResetBus(bus: PciBus, era: Era): 0 | 'ENOTTY' {
  return busResetBlocker(bus, era) ? 'ENOTTY' : 0;
}

/**
 * `vfio_pci_dev_below_slot`: walk up from `f` to the function sitting on `slot->bus`; `f` is below
 * the slot iff that function's `slot` is this slot (Q2).
 */
export function isBelowSlot(f: PciFunction, slot: PciSlot): boolean {
  for (let d: PciFunction | null = f; d; d = d.bus.self) if (d.bus === slot.bus) return d.slot === slot;
  return false;
}

/** Q1/Q3: everything on `bus` and below it, depth-first pre-order (`pci_walk_bus`); `bus->self` is not included. */
export function busScope(bus: PciBus): PciFunction[] {
  const out: PciFunction[] = [];
  Topology.walkBelow(bus, (f) => out.push(f));
  return out;
}

/** Q2/Q3: the functions of `slot` and everything behind bridges in it, in walk order. */
export function slotScope(slot: PciSlot): PciFunction[] {
  return busScope(slot.bus).filter((f) => isBelowSlot(f, slot));
}

export type HotResetScope =
  | { kind: 'slot'; slot: PciSlot; bridge: PciFunction; functions: readonly PciFunction[] }
  | { kind: 'bus'; bus: PciBus; bridge: PciFunction; functions: readonly PciFunction[] }
  | { kind: 'none'; errno: 'ENODEV'; reason: BusResetBlocker; slotReason: SlotResetBlocker };

/**
 * I2/I3 (`vfio_pci_ioctl_get_pci_hot_reset_info`, also H2): a slot scope when
 * `pci_probe_reset_slot(pdev->slot)` is 0, else a bus scope when `pci_probe_reset_bus(pdev->bus)` is
 * 0, else ENODEV. `functions` is VFIO's walk of `pdev->bus` (filtered to the slot in slot scope), so
 * it always contains `f` and never the bridge above the bus.
 */
export function hotResetScope(f: PciFunction, era: Era): HotResetScope {
  let slotReason = slotResetBlocker(f.slot, era);
  if (!slotReason && f.slot) {
    const slot = f.slot;
    const bridge = slot.bus.self;
    if (bridge) {
      const functions = busScope(f.bus).filter((d) => isBelowSlot(d, slot));
      return { kind: 'slot', slot, bridge, functions };
    }
    slotReason = { code: 'slot-without-bridge', slot: slot.desc.name };
  }
  const reason = busResetBlocker(f.bus, era);
  if (!reason) return { kind: 'bus', bus: f.bus, bridge: f.bus.self!, functions: busScope(f.bus) };
  return { kind: 'none', errno: 'ENODEV', reason, slotReason: slotReason ?? { code: 'no-slot' } };
}

export type ResetBusTarget =
  | { kind: 'slot'; slot: PciSlot }
  /** `probe` is what `__pci_reset_bus` will find when it probes again (ENOTTY ends the reset there). */
  | { kind: 'bus'; bus: PciBus; probe: 0 | 'ENOTTY' };

/** P3: `pci_reset_bus(pdev)` — the slot when `pci_probe_reset_slot(pdev->slot)` is 0, else the bus. */
export function pciResetBusTarget(f: PciFunction, era: Era): ResetBusTarget {
  if (f.slot && probeResetSlot(f.slot, era) === 0) return { kind: 'slot', slot: f.slot };
  return { kind: 'bus', bus: f.bus, probe: probeResetBus(f.bus, era) };
}
