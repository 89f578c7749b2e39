/**
 * Why a reset is impossible, risky or surprising — as data. A discriminated union on `code`
 * (zod's issue style): every variant names the function it is about (`bdf`) and, where another
 * device is in the way, that device with its driver and group. Formatting lives in `render/`.
 * @module
 */

/** A device named in a problem: always with driver and group, never just a number. */
export interface DeviceRef {
  bdf: string;
  driver: string | null;
  group: number | null;
}

export type Problem =
  /** No function-level reset: `reset_method` is empty (VFIO_DEVICE_RESET would fail, D3/O1). */
  | { code: 'no-function-reset'; severity: 'warning'; bdf: string }
  /** `bus` is listed but other functions now share the bus, so it fails with ENOTTY (M3/M4); a warning when nothing else works. */
  | { code: 'stale-bus-method'; severity: 'warning' | 'info'; bdf: string; sibling: DeviceRef }
  /** Neither slot nor bus reset is possible: hot-reset INFO and HOT_RESET fail with ENODEV (I2/H2). */
  | { code: 'no-hot-reset'; severity: 'warning'; bdf: string; reason: NoHotResetReason }
  /** A bridge lies inside the scope; vfio-pci never binds bridges, so the dev_set cannot cover it (S0/H6). */
  | { code: 'scope-has-bridge'; severity: 'blocker'; bdf: string; blocker: DeviceRef }
  /** A function in scope is bound to a host driver (or none): HOT_RESET fails with EINVAL (H6). */
  | { code: 'scope-not-vfio'; severity: 'blocker'; bdf: string; blocker: DeviceRef }
  /** The scope spans several IOMMU groups: one fd per group must be passed (group mode). */
  | { code: 'scope-crosses-groups'; severity: 'info'; bdf: string; groups: number[] }
  /** The function's IOMMU group holds a device bound to a DMA-API driver: not viable (G3/G4). */
  | { code: 'group-not-viable'; severity: 'blocker'; bdf: string; group: number; blocker: DeviceRef }
  /** No IOMMU group: VFIO cannot use the function (IOMMU off, or the device is not translated). */
  | { code: 'no-iommu-group'; severity: 'blocker'; bdf: string }
  /** A hotplug-capable port whose slot driver has no reset_slot: a bus reset looks like a surprise removal (PH1). */
  | {
      code: 'hotplug-port-plain-sbr';
      severity: 'warning';
      bdf: string;
      port: DeviceRef;
      slot: string;
      slotDriver: string;
    }
  /**
   * The function's `bus` reset method would reset its parent bus with a plain SBR — pciehp's slot
   * path is skipped (multifunction bit, no slot) — below a port pciehp drives: pciehp sees the
   * link drop and removes, then re-adds, the device (PH1). Warning when `bus` is the method a
   * function reset would use now, info when an earlier method comes first.
   */
  | {
      code: 'bus-method-below-pciehp';
      severity: 'warning' | 'info';
      bdf: string;
      port: DeviceRef;
      slot: string;
    }
  /** A quirk forbids bus reset for this device or one in its scope (P1/P2). */
  | { code: 'no-bus-reset-quirk'; severity: 'info'; bdf: string; on: DeviceRef }
  /** The function sits on a root bus: no hot reset at all (I2, H15). */
  | { code: 'root-bus-device'; severity: 'info'; bdf: string }
  /** Config space could not be read in full (unprivileged): capabilities and computed methods unknown. */
  | { code: 'partial-config'; severity: 'info'; bdf: string; bytes: number }
  /** sysfs lists other reset methods than the model computes (a captured host, or a model gap). */
  | { code: 'reset-methods-differ'; severity: 'info'; bdf: string; sysfs: string[]; computed: string[] }
  /** sysfs puts the function in another IOMMU group than the model computes. */
  | { code: 'group-differs'; severity: 'info'; bdf: string; sysfs: number | null; computed: number | null };

export type ProblemCode = Problem['code'];

/**
 * The problems a hot-reset scope has whichever of its functions is reset: they belong to the reset
 * domain (the slot or bus the kernel resets) and are kept there once; `problemsOf(f)` says them of
 * each function — except a `scope-not-vfio` naming the function itself, whose driver is its state.
 */
export const DOMAIN_PROBLEM_CODES = [
  'scope-has-bridge',
  'scope-not-vfio',
  'scope-crosses-groups',
  'hotplug-port-plain-sbr',
] as const satisfies readonly ProblemCode[];

type WithoutBdf<P> = P extends unknown ? Omit<P, 'bdf'> : never;

/** A problem of a whole reset domain: the per-function variant without `bdf`. */
export type DomainProblem = WithoutBdf<Extract<Problem, { code: (typeof DOMAIN_PROBLEM_CODES)[number] }>>;

export function isDomainProblem(p: Problem): p is Extract<Problem, { code: DomainProblem['code'] }> {
  return (DOMAIN_PROBLEM_CODES as readonly string[]).includes(p.code);
}
export type Severity = Problem['severity'];

export type NoHotResetReason =
  | { code: 'root-bus' }
  | { code: 'virtual-bus' }
  | { code: 'no-bus-reset'; on: string };

const SEVERITY_ORDER: Record<Severity, number> = { blocker: 0, warning: 1, info: 2 };

export function bySeverity(a: { severity: Severity }, b: { severity: Severity }): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity];
}

export { isDmaNeutralDriver, isVfioDriver } from '../pci/drivers.ts';
