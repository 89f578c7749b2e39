/**
 * Function-level reset methods as the kernel probes, caches and runs them (kernel-semantics.md §4:
 * M1–M8, the method table; §3.11: Y2, Y3). Pure: every answer depends only on the function and on a
 * `ResetProbeContext` describing what the kernel sees *at that moment* — the bus's device list and
 * the `dev->slot` pointers — because the same probe answers differently at `pci_device_add` time,
 * at reset time and when `default` is written to `reset_method`.
 *
 * Read from drivers/pci/pci.c (6.1.y and 6.18): `pci_init_reset_methods`,
 * `__pci_reset_function_locked`, `pci_reset_bus_function`, `pci_dev_reset_slot_function`,
 * `pci_parent_bus_reset`, `pci_reset_hotplug_slot`, `pcie_reset_flr`, `pci_af_flr`, `pci_pm_reset`,
 * `reset_method_show`/`reset_method_store`; drivers/pci/probe.c `pci_device_add`, `pci_scan_slot`;
 * [2013] 3.12/3.13 `__pci_dev_reset` and the original `pci_dev_reset_slot_function`.
 * @module
 */

import type { ErrnoName } from '../uapi/errno.ts';
import type { Era } from './era.ts';
import { type SlotDriver, slotDriverHasResetSlot } from './model.ts';
import { deviceSpecificReset } from './quirks.ts';
import type { PciBus, PciFunction, PciSlot, Topology } from './topology.ts';

/**
 * `pci_reset_fn_methods[]` in priority order (index 0, the terminator, left out). `cxl_bus` exists
 * from 6.12 only; the model has no CXL port DVSEC, so it never probes true (see `probeMethod`).
 */
export const RESET_METHODS = ['device_specific', 'acpi', 'flr', 'af_flr', 'pm', 'bus', 'cxl_bus'] as const;
export type ResetMethod = (typeof RESET_METHODS)[number];

/** 0 or an errno name, as the kernel's reset functions return them (negated). */
export type ResetErrno = 0 | ErrnoName;

/** Which half of `pci_reset_bus_function` handles the `bus` method. */
export type BusVia = 'slot' | 'parent-bus';

export interface KernelFeatures {
  /**
   * Whether the kernel knows `cxl_bus` (6.12+). Defaults to true for '6.6+', whose reference tree
   * is 6.18; pass false to model 6.6–6.11, which know six names like 6.1.
   */
  cxlBus?: boolean;
}

/** Method names the era's `reset_method` attribute accepts, in priority order; none before 5.15 (M8). */
export function knownResetMethods(era: Era, features: KernelFeatures = {}): readonly ResetMethod[] {
  if (era === '2013') return [];
  const cxl = features.cxlBus ?? era === '6.6+';
  return cxl ? RESET_METHODS : RESET_METHODS.filter((m) => m !== 'cxl_bus');
}

/**
 * Longest list a `reset_method` write may set: `PCI_NUM_RESET_METHODS - 1`, i.e. the number of
 * known methods — 6, or 7 where `cxl_bus` exists (Y3).
 */
export function maxResetMethods(era: Era, features: KernelFeatures = {}): number {
  return knownResetMethods(era, features).length;
}

/** What the kernel sees when it probes or runs a method. */
export interface ResetProbeContext {
  /** `bus->devices` at that moment (at add time only the functions added before, M2). */
  busDevices(bus: PciBus): readonly PciFunction[];
  /** `dev->slot` at that moment (at boot only slots registered before the scan, M3). */
  slotOf(f: PciFunction): PciSlot | null;
  /**
   * `dev->multifunction` at that moment. `pci_scan_slot` forces it for fn > 0 only after
   * `pci_device_add` returned, so at add time it is the header bit. Defaults to `f.multifunction`.
   */
  multifunction?(f: PciFunction): boolean;
  /**
   * What running a method does to the hardware once its own checks pass (reset time only; probes
   * never call it). Default 0. The simulator answers e.g. `ENOTTY` for a failed post-SBR wait or
   * `EINVAL` for a PM reset outside D0.
   */
  attempt?(f: PciFunction, method: ResetMethod, via: BusVia | null): ResetErrno;
  /**
   * Whether `dev->subordinate` is set at that moment. At `pci_device_add` a bridge's child bus
   * does not exist yet (pci_scan_bridge creates it afterwards), so a bridge alone on its bus lists
   * `bus` — as Linux 6.1 shows for QEMU's switch ports and pcie-pci-bridge (M2). Default: linked.
   */
  hasSubordinate?(f: PciFunction): boolean;
}

/** The running kernel: every function linked, every slot driver registered. */
export const RUNTIME_CONTEXT: ResetProbeContext = {
  busDevices: (bus) => bus.devices,
  slotOf: (f) => f.slot,
};

/**
 * Slot drivers that create their `pci_slot` when the bus is allocated, before its devices are scanned
 * (x86 `pcibios_add_bus` → `acpi_pci_add_bus`: ACPI `pci_slot` and acpiphp), so `pci_setup_device`
 * already sets `dev->slot`. pciehp and shpchp are port services that bind after boot enumeration;
 * pnv_php and s390 are treated the same (M3).
 */
export function slotRegisteredBeforeScan(driver: SlotDriver): boolean {
  return driver === 'acpiphp' || driver === 'pci_slot';
}

/** What `pci_init_reset_methods` sees for `f` inside `pci_device_add` at boot (M2/M3). */
export function addTimeContext(f: PciFunction): ResetProbeContext {
  return {
    // M2: probed before `list_add_tail(&dev->bus_list, &bus->devices)`: only earlier functions are linked.
    busDevices: (bus) => bus.devices.filter((d) => d.addIndex < f.addIndex),
    // M3: `dev->slot` exists at add time only for slots registered before the scan.
    slotOf: (g) => (g.slot && slotRegisteredBeforeScan(g.slot.desc.driver) ? g.slot : null),
    multifunction: (g) => (g === f ? g.desc.multifunctionBit : g.multifunction),
    // M2: the function's own child bus is scanned only after it was added.
    hasSubordinate: (g) => (g === f ? false : g.subordinate !== null),
  };
}

function subordinateNow(f: PciFunction, ctx: ResetProbeContext): boolean {
  return ctx.hasSubordinate ? ctx.hasSubordinate(f) : f.subordinate !== null;
}

const ENOTTY = 'ENOTTY' as const;

function mfNow(f: PciFunction, ctx: ResetProbeContext): boolean {
  return ctx.multifunction ? ctx.multifunction(f) : f.multifunction;
}

/** `pci_reset_hotplug_slot` in probe mode: ENOTTY without a hotplug driver offering `reset_slot`; pciehp's probe is 0. */
function hotplugSlotProbe(slot: PciSlot): 0 | 'ENOTTY' {
  return slotDriverHasResetSlot(slot.desc.driver) ? 0 : ENOTTY;
}

/**
 * `pci_dev_reset_slot_function`: !multifunction, no subordinate, `dev->slot` set, !NO_BUS_RESET, then
 * the hotplug driver's `reset_slot` probe. Unlike `pci_probe_reset_slot` it does not check
 * `pci_slot_resettable`.
 */
export function slotPathProbe(f: PciFunction, ctx: ResetProbeContext): 0 | 'ENOTTY' {
  const slot = ctx.slotOf(f);
  if (mfNow(f, ctx) || subordinateNow(f, ctx) || !slot || f.quirks.has('NO_BUS_RESET')) return ENOTTY;
  return hotplugSlotProbe(slot);
}

/**
 * `pci_parent_bus_reset`: not on a root bus, no subordinate, the bus has a bridge, !NO_BUS_RESET, and
 * `f` is the only entry of `bus->devices` now (M3/M4).
 */
export function parentBusPathProbe(f: PciFunction, ctx: ResetProbeContext): 0 | 'ENOTTY' {
  const bus = f.bus;
  // A bus without `self` is a root bus or an SR-IOV virtual bus; both fail here.
  if (!bus.self || subordinateNow(f, ctx) || f.quirks.has('NO_BUS_RESET')) return ENOTTY;
  return ctx.busDevices(bus).some((d) => d !== f) ? ENOTTY : 0;
}

/** `pci_reset_bus_function` in probe mode: the slot path first, the parent-bus path if that says ENOTTY. */
export function probeBusMethod(
  f: PciFunction,
  ctx: ResetProbeContext,
): { result: 0 | 'ENOTTY'; via: BusVia | null } {
  if (slotPathProbe(f, ctx) === 0) return { result: 0, via: 'slot' };
  if (parentBusPathProbe(f, ctx) === 0) return { result: 0, via: 'parent-bus' };
  return { result: ENOTTY, via: null };
}

/** The method's own `probe` call (`PCI_RESET_PROBE`), 6.1 / 6.6+ semantics (§4.1 table). */
export function probeMethod(f: PciFunction, method: ResetMethod, ctx: ResetProbeContext): ResetErrno {
  const d = f.desc;
  switch (method) {
    case 'device_specific':
      return deviceSpecificReset(d) ? 0 : ENOTTY;
    case 'acpi':
      return d.acpiReset ? 0 : ENOTTY;
    case 'flr':
      return !f.quirks.has('NO_FLR_RESET') && d.pcie?.flr === true ? 0 : ENOTTY;
    case 'af_flr':
      return d.af && !f.quirks.has('NO_FLR_RESET') && d.af.tp && d.af.flr ? 0 : ENOTTY;
    case 'pm':
      // pci_pm_reset: a PM cap whose PMCSR No_Soft_Reset is clear (QEMU nvme sets it; e1000e does not).
      return d.pm && !f.quirks.has('NO_PM_RESET') && !d.pm.noSoftReset ? 0 : ENOTTY;
    case 'bus':
      return probeBusMethod(f, ctx).result;
    case 'cxl_bus':
      // Needs a CXL port DVSEC on the upstream bridge; the model has no CXL, so never.
      return ENOTTY;
  }
}

/**
 * M1: `pci_init_reset_methods` — probe every method in priority order; each 0 is appended (a success
 * does not stop probing); an error other than ENOTTY stops probing. `probe` is replaceable for tests.
 */
export function probeResetMethods(
  f: PciFunction,
  ctx: ResetProbeContext,
  methods: readonly ResetMethod[] = RESET_METHODS,
  probe: (f: PciFunction, m: ResetMethod, ctx: ResetProbeContext) => ResetErrno = probeMethod,
): ResetMethod[] {
  const out: ResetMethod[] = [];
  for (const m of methods) {
    const r = probe(f, m, ctx);
    if (r === 0) out.push(m);
    else if (r !== ENOTTY) break;
  }
  return out;
}

/**
 * M1–M3: the cached `reset_methods[]` of every function as boot leaves it, keyed by BDF name. Each
 * function is probed at its `pci_device_add` moment (`addIndex` order): its bus holds only the
 * functions added before it, and `dev->slot` is set only for slots registered before the scan.
 * Never re-run later (M2) except by writing `default` (`parseResetMethodWrite`).
 */
export function initResetMethods(topo: Topology): Map<string, ResetMethod[]> {
  const out = new Map<string, ResetMethod[]>();
  for (const f of topo.functions) out.set(f.name, probeResetMethods(f, addTimeContext(f)));
  return out;
}

/** M7 / Y1: `pci_reset_supported` — the list is non-empty (also decides `reset`/`reset_method` visibility at add time). */
export function resetSupported(list: readonly ResetMethod[]): boolean {
  return list.length > 0;
}

export interface ResetAttempt {
  method: ResetMethod;
  /** For `bus`: which half of `pci_reset_bus_function` ran. */
  via?: BusVia;
  result: ResetErrno;
}

export interface ResetOutcome {
  /** The method whose result ended the walk (0 or a non-ENOTTY error); null when everything said ENOTTY. */
  method: ResetMethod | null;
  via?: BusVia;
  errno: ResetErrno;
  tried: ResetAttempt[];
}

const attemptOf = (ctx: ResetProbeContext) => ctx.attempt ?? (() => 0 as const);

/**
 * `pci_reset_bus_function` in do-reset mode. The slot path runs `reset_slot` when its checks pass;
 * if that returns ENOTTY (e.g. a failed post-SBR wait inside pciehp) the parent-bus path is tried too.
 */
function runBus(
  f: PciFunction,
  ctx: ResetProbeContext,
  tried: ResetAttempt[],
): { result: ResetErrno; via: BusVia } {
  const attempt = attemptOf(ctx);
  if (slotPathProbe(f, ctx) === 0) {
    const r = attempt(f, 'bus', 'slot');
    tried.push({ method: 'bus', via: 'slot', result: r });
    if (r !== ENOTTY) return { result: r, via: 'slot' };
  }
  const p = parentBusPathProbe(f, ctx);
  const r = p === 0 ? attempt(f, 'bus', 'parent-bus') : p;
  tried.push({ method: 'bus', via: 'parent-bus', result: r });
  return { result: r, via: 'parent-bus' };
}

/**
 * M4/M5: `__pci_reset_function_locked` on the cached list with the *current* context. Each method
 * re-checks its own conditions (a stale `bus` fails with ENOTTY when the bus gained a sibling);
 * the first 0 wins; any result other than ENOTTY ends the walk (no fallback); all ENOTTY, or an
 * empty list (M6/M7), gives ENOTTY.
 */
export function functionResetOutcome(
  f: PciFunction,
  cachedList: readonly ResetMethod[],
  ctx: ResetProbeContext,
): ResetOutcome {
  const tried: ResetAttempt[] = [];
  const attempt = attemptOf(ctx);
  for (const m of cachedList) {
    if (m === 'bus') {
      const { result, via } = runBus(f, ctx, tried);
      if (result !== ENOTTY) return { method: m, via, errno: result, tried };
      continue;
    }
    const p = probeMethod(f, m, ctx);
    const r = p === 0 ? attempt(f, m, null) : p;
    tried.push({ method: m, result: r });
    if (r !== ENOTTY) return { method: m, errno: r, tried };
  }
  return { method: null, errno: ENOTTY, tried };
}

/**
 * M8 [2013]: no cached list; every reset probes at call time in the order device-specific → FLR →
 * AF FLR → PM → slot → parent bus, stopping at the first result other than ENOTTY. Differences from
 * 6.x read in 3.12/3.13: no `acpi` method; no NO_FLR_RESET / NO_PM_RESET / NO_BUS_RESET flags (added
 * 2014–2018); the slot path needs no *other* function on the bus with the same slot instead of
 * !multifunction. Returned method names reuse the 6.x ones (`bus` with `via` for slot / parent bus).
 */
export function resetChain2013(f: PciFunction, ctx: ResetProbeContext): ResetOutcome {
  const d = f.desc;
  const attempt = attemptOf(ctx);
  const tried: ResetAttempt[] = [];
  const steps: { method: ResetMethod; via?: BusVia; ok: () => boolean }[] = [
    { method: 'device_specific', ok: () => deviceSpecificReset(d) !== null },
    { method: 'flr', ok: () => d.pcie?.flr === true },
    { method: 'af_flr', ok: () => d.af?.tp === true && d.af.flr },
    { method: 'pm', ok: () => d.pm !== undefined && !d.pm.noSoftReset },
    {
      method: 'bus',
      via: 'slot',
      ok: () => {
        const slot = ctx.slotOf(f);
        if (f.subordinate || !slot) return false;
        if (ctx.busDevices(f.bus).some((o) => o !== f && ctx.slotOf(o) === slot)) return false;
        return hotplugSlotProbe(slot) === 0;
      },
    },
    {
      method: 'bus',
      via: 'parent-bus',
      ok: () => !!f.bus.self && !f.subordinate && !ctx.busDevices(f.bus).some((o) => o !== f),
    },
  ];
  for (const s of steps) {
    if (!s.ok()) continue;
    const r = attempt(f, s.method, s.via ?? null);
    tried.push(s.via ? { method: s.method, via: s.via, result: r } : { method: s.method, result: r });
    if (r !== ENOTTY)
      return s.via
        ? { method: s.method, via: s.via, errno: r, tried }
        : { method: s.method, errno: r, tried };
  }
  return { method: null, errno: ENOTTY, tried };
}

/** Y2: `reset_method_show` — names joined by single spaces plus a newline; an empty list reads as nothing. */
export function formatResetMethods(list: readonly ResetMethod[]): string {
  return list.length === 0 ? '' : `${list.join(' ')}\n`;
}

/** `reset_method` as read back: its space-separated names (none when every method was removed, Y2). */
export function parseResetMethods(text: string): string[] {
  return text.split(/\s+/).filter((s) => s !== '');
}

/** The kernel's `sysfs_streq`: equal, allowing one trailing newline on either side. */
function sysfsStreq(a: string, b: string): boolean {
  const strip = (s: string) => (s.endsWith('\n') ? s.slice(0, -1) : s);
  return strip(a) === strip(b);
}

/** The kernel's `strim`: strip leading and trailing `isspace` characters. */
function strim(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

export type ResetMethodWrite =
  | { ok: true; list: ResetMethod[]; log: string[] }
  /** ENOENT: the era has no `reset_method` attribute at all. */
  | { ok: false; errno: 'EINVAL' | 'ENOENT'; message: string };

/**
 * Y3: `reset_method_store`. `""` (or a lone newline) empties the list; `default` re-probes now with
 * `ctx` (so `bus` follows the *current* bus population); otherwise the text is split on single spaces,
 * empty tokens are skipped, each token is trimmed and must be a known name ("Invalid reset method")
 * that probes 0 now ("Unsupported reset method"); more than `maxResetMethods` entries fail ("Too many
 * reset methods"); duplicates are accepted. Any error leaves the previous list in place (the caller
 * keeps it). `log` carries the kernel's warnings on success.
 */
export function parseResetMethodWrite(
  text: string,
  f: PciFunction,
  ctx: ResetProbeContext,
  era: Era,
  features: KernelFeatures = {},
): ResetMethodWrite {
  if (era === '2013')
    return { ok: false, errno: 'ENOENT', message: 'no reset_method attribute before Linux 5.15' };
  const known = knownResetMethods(era, features);
  if (sysfsStreq(text, '')) return { ok: true, list: [], log: ['All device reset methods disabled by user'] };
  if (sysfsStreq(text, 'default')) return { ok: true, list: probeResetMethods(f, ctx, known), log: [] };

  const max = known.length;
  const list: ResetMethod[] = [];
  for (const raw of text.split(' ')) {
    if (sysfsStreq(raw, '')) continue;
    const name = strim(raw);
    const m = known.find((k) => sysfsStreq(name, k));
    if (!m) return { ok: false, errno: 'EINVAL', message: `Invalid reset method '${name}'` };
    if (probeMethod(f, m, ctx) !== 0)
      return { ok: false, errno: 'EINVAL', message: `Unsupported reset method '${name}'` };
    if (list.length === max) return { ok: false, errno: 'EINVAL', message: 'Too many reset methods' };
    list.push(m);
  }
  const log =
    probeMethod(f, 'device_specific', ctx) === 0 && list[0] !== 'device_specific'
      ? ['Device-specific reset disabled/de-prioritized by user']
      : [];
  return { ok: true, list, log };
}
