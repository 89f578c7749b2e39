/**
 * The planner: "I want to give these devices to one VM". For the set it says which IOMMU groups
 * must be bound to vfio-pci (every member, with its driver now), how QEMU would reset each device
 * (its policy, research/peers.md §1.1: FLR / kernel function reset, a hot reset that touches no
 * other in-use device, the multi-device hot reset at VM reset, the PM reset as a last resort),
 * every device outside the set a hot reset would hit, a verdict per device with the reasons as
 * data, and the warnings users need — before anything is touched. Pure: the inventory, the reset
 * capabilities QEMU reads from config space, the host-use facts and a timing predictor come in.
 * @module
 */

import { type Inventory, type InventoryFunction, problemsOf } from '../host/inventory.ts';
import type { DeviceRef, NoHotResetReason, Problem } from '../host/problems.ts';
import { isBridgeKind } from '../pci/class-names.ts';
import type { Era } from '../pci/era.ts';
import type { ResetCapabilities } from '../vfio/strategy.ts';
import { type BindPlan, planBind } from './bind-plan.ts';
import type { HostUse, HostUseLookup } from './host-use.ts';
import type { Predictor, ResetPrediction } from './timing.ts';

/** What QEMU does: hw/vfio/pci.c `vfio_pci_reset` (per device) and `vfio_pci_hot_reset_multi` (VM reset). */
export type QemuAction = 'function-reset' | 'hot-reset-single' | 'hot-reset-multi' | 'pm-reset';

/** Why a way of resetting is not open to a device. */
export type BlockReason =
  /** VFIO_DEVICE_FLAGS_RESET would be clear: the kernel's function reset fails (D2/D3). */
  | { code: 'no-function-reset'; errno: string | null }
  /** The kernel's function reset is a PM reset, which QEMU uses only as the last resort. */
  | { code: 'function-reset-is-pm' }
  /** No IOMMU group: VFIO cannot use the device. */
  | { code: 'no-iommu-group' }
  /** Neither a slot nor a bus reset exists (I2/H2: ENODEV). */
  | { code: 'no-hot-reset'; reason: NoHotResetReason }
  /** A bridge is in scope; vfio-pci never binds it, so HOT_RESET fails (H6). */
  | { code: 'scope-has-bridge'; bridge: DeviceRef }
  /** In scope but in groups outside the set: QEMU "depends on group N which is not owned". */
  | { code: 'scope-outside-set'; devices: DeviceRef[] }
  /** A single-device hot reset would hit other devices of the VM: QEMU leaves it to the VM reset. */
  | { code: 'scope-in-use'; devices: DeviceRef[] };

export type Verdict =
  | { kind: 'resettable'; by: 'function-reset' | 'hot-reset-single' | 'pm-reset'; method: string | null }
  | { kind: 'resettable-together'; by: 'hot-reset-multi'; with: DeviceRef[] }
  | { kind: 'not-resettable'; reasons: BlockReason[] };

export interface PlanDevice extends DeviceRef {
  className: string;
  capabilities: ResetCapabilities & { resetWorks: boolean; functionMethod: string | null };
  qemu: {
    /** `vfio_pci_compute_needs_reset`: no working kernel reset, or PM reset without FLR. */
    needsReset: boolean;
    /** A reset of this device alone (guest FLR, hot-unplug, the qdev reset). */
    deviceReset: QemuAction | null;
    /** What happens at VM reset. */
    vmReset: QemuAction | null;
  };
  hotReset: { kind: 'slot' | 'bus'; target: string; bridge: string; affected: DeviceRef[] } | null;
  verdict: Verdict;
  /** Why the ways QEMU tries first were passed over, in its order. */
  passedOver: BlockReason[];
  /** Duration of the VM-reset action, from the simulator's timing model. */
  predicted: ResetPrediction | null;
}

type InventoryWarning = Extract<
  Problem,
  {
    code:
      | 'stale-bus-method'
      | 'hotplug-port-plain-sbr'
      | 'bus-method-below-pciehp'
      | 'root-bus-device'
      | 'no-bus-reset-quirk';
  }
>;

const INVENTORY_WARNINGS: ReadonlySet<Problem['code']> = new Set([
  'stale-bus-method',
  'hotplug-port-plain-sbr',
  'bus-method-below-pciehp',
  'root-bus-device',
  'no-bus-reset-quirk',
]);

export type PlanWarning =
  | InventoryWarning
  /** A group member the host uses, not named: binding the group takes it from the host. */
  | {
      code: 'host-device-in-group';
      severity: 'warning';
      bdf: string;
      group: number;
      device: DeviceRef;
      use: HostUse;
    }
  /** A named device the host uses: the host loses it. */
  | { code: 'host-device-requested'; severity: 'warning'; bdf: string; use: HostUse }
  /** The reset QEMU would use takes longer than `thresholdMs` in the timing model. */
  | {
      code: 'slow-reset';
      severity: 'warning';
      bdf: string;
      action: QemuAction;
      predictedMs: number;
      thresholdMs: number;
    }
  /** Only the PM reset is left: QEMU's weakest reset, it may leave device state behind. */
  | { code: 'pm-reset-fallback'; severity: 'warning'; bdf: string }
  /** The timing model's run of that reset ends in an error (link not back, device not ready). */
  | { code: 'reset-fails-in-model'; severity: 'warning'; bdf: string; action: QemuAction; errno: string };

export interface Collateral {
  device: DeviceRef;
  /** Requested devices whose hot reset hits it. */
  hitBy: string[];
  /** It is in a group the plan binds to vfio-pci (so it stops working for the host anyway). */
  boundByPlan: boolean;
}

export interface Plan {
  host: string;
  origin: string;
  era: Era;
  iommu: boolean;
  requested: string[];
  bind: BindPlan;
  devices: PlanDevice[];
  collateral: Collateral[];
  warnings: PlanWarning[];
}

export interface PlanInputs {
  inventory: Inventory;
  /** Canonical BDFs, each on the host. */
  requested: readonly string[];
  capabilities: (bdf: string) => ResetCapabilities;
  hostUse: HostUseLookup;
  /** Duration model; null skips predictions (e.g. for fleet metrics). */
  predict: Predictor | null;
}

/** Resets QEMU would time slow enough to mention (a VM reset waits for every one of them). */
export const SLOW_RESET_MS = 1000;

/** QEMU's `vfio_pci_compute_needs_reset`: no working kernel reset, or a PM reset without FLR. */
export function qemuNeedsReset(resetWorks: boolean, caps: ResetCapabilities): boolean {
  return !resetWorks || (!caps.hasFlr && caps.hasPmReset);
}

export function buildPlan(input: PlanInputs): Plan {
  const inv = input.inventory;
  const byBdf = new Map(inv.functions.map((f) => [f.bdf, f]));
  const requested = [...new Set(input.requested)];
  const bind = planBind(inv, requested, input.hostUse);
  const owned = new Set(bind.groups.map((g) => g.id));
  const named = new Set(requested);
  const warnings: PlanWarning[] = [];
  const collateral = new Map<string, Collateral>();

  const devices: PlanDevice[] = [];
  for (const bdf of requested) {
    const f = byBdf.get(bdf);
    if (!f || isBridgeKind(f.kind)) continue;
    const d = planDevice(f, input, byBdf, owned, named);
    devices.push(d);

    for (const p of problemsOf(f)) if (INVENTORY_WARNINGS.has(p.code)) warnings.push(p as InventoryWarning);
    for (const use of input.hostUse(bdf))
      warnings.push({ code: 'host-device-requested', severity: 'warning', bdf, use });
    const acts = [d.qemu.deviceReset, d.qemu.vmReset];
    if (acts.includes('pm-reset') && d.verdict.kind !== 'resettable-together')
      warnings.push({ code: 'pm-reset-fallback', severity: 'warning', bdf });
    const action = d.qemu.vmReset;
    if (d.predicted && action) {
      if (d.predicted.errno)
        warnings.push({
          code: 'reset-fails-in-model',
          severity: 'warning',
          bdf,
          action,
          errno: d.predicted.errno,
        });
      else if (d.predicted.ms > SLOW_RESET_MS)
        warnings.push({
          code: 'slow-reset',
          severity: 'warning',
          bdf,
          action,
          predictedMs: d.predicted.ms,
          thresholdMs: SLOW_RESET_MS,
        });
    }
    for (const a of d.hotReset?.affected ?? []) {
      if (named.has(a.bdf)) continue;
      const c = collateral.get(a.bdf) ?? {
        device: a,
        hitBy: [],
        boundByPlan: a.group !== null && owned.has(a.group) && !isBridgeKind(byBdf.get(a.bdf)!.kind),
      };
      c.hitBy.push(bdf);
      collateral.set(a.bdf, c);
    }
  }
  for (const r of bind.refusals)
    if (r.code === 'host-device-in-group')
      for (const by of r.requestedBy)
        warnings.push({
          code: 'host-device-in-group',
          severity: 'warning',
          bdf: by,
          group: r.group,
          device: r.device,
          use: r.use,
        });

  return {
    host: inv.host,
    origin: inv.origin,
    era: inv.era,
    iommu: inv.iommu,
    requested,
    bind,
    devices,
    collateral: [...collateral.values()],
    warnings,
  };
}

function planDevice(
  f: InventoryFunction,
  input: PlanInputs,
  byBdf: Map<string, InventoryFunction>,
  owned: Set<number>,
  named: Set<string>,
): PlanDevice {
  const caps = input.capabilities(f.bdf);
  const resetWorks = f.functionReset.ok;
  const passedOver: BlockReason[] = [];

  // Hot reset: everything in scope must end up bound to vfio-pci in a group this VM holds (H6, H13).
  const hotBlockers: BlockReason[] = [];
  let inUse: DeviceRef[] = [];
  if (f.group === null) hotBlockers.push({ code: 'no-iommu-group' });
  if (!f.hotReset) {
    const p = f.problems.find((x) => x.code === 'no-hot-reset');
    hotBlockers.push({
      code: 'no-hot-reset',
      reason: p?.code === 'no-hot-reset' ? p.reason : { code: 'root-bus' },
    });
  } else {
    const affected = f.hotReset.affected;
    const bridge = affected.find((a) => {
      const g = byBdf.get(a.bdf);
      return g !== undefined && isBridgeKind(g.kind);
    });
    if (bridge) hotBlockers.push({ code: 'scope-has-bridge', bridge });
    const outside = affected.filter((a) => a !== bridge && (a.group === null || !owned.has(a.group)));
    if (outside.length > 0) hotBlockers.push({ code: 'scope-outside-set', devices: outside });
    inUse = affected.filter((a) => a.bdf !== f.bdf && named.has(a.bdf));
  }
  const hotOk = hotBlockers.length === 0;

  // vfio_pci_reset: the kernel reset when it works and is not only a PM reset.
  let deviceReset: QemuAction | null = null;
  if (resetWorks && (caps.hasFlr || !caps.hasPmReset)) deviceReset = 'function-reset';
  else {
    passedOver.push(
      resetWorks
        ? { code: 'function-reset-is-pm' }
        : { code: 'no-function-reset', errno: f.functionReset.errno },
    );
    if (hotOk && inUse.length === 0) deviceReset = 'hot-reset-single';
    else {
      passedOver.push(...(hotOk ? [{ code: 'scope-in-use' as const, devices: inUse }] : hotBlockers));
      if (resetWorks && caps.hasPmReset && !caps.hasFlr) deviceReset = 'pm-reset';
    }
  }
  const needsReset = qemuNeedsReset(resetWorks, caps);
  // vfio_device_reset_handler: devices that need it get the multi-device hot reset when it hits
  // another in-use device (otherwise QEMU's _multi returns EINVAL and the per-device path runs).
  const vmReset: QemuAction | null =
    needsReset && hotOk && inUse.length > 0 ? 'hot-reset-multi' : deviceReset;

  let verdict: Verdict;
  if (vmReset === 'hot-reset-multi')
    verdict = { kind: 'resettable-together', by: 'hot-reset-multi', with: inUse };
  else if (vmReset !== null)
    verdict = {
      kind: 'resettable',
      by: vmReset,
      method: vmReset === 'hot-reset-single' ? (f.hotReset?.kind ?? null) : f.functionReset.method,
    };
  else verdict = { kind: 'not-resettable', reasons: passedOver };

  const predicted =
    vmReset === null || !input.predict
      ? null
      : input.predict(
          f.bdf,
          vmReset === 'hot-reset-single' || vmReset === 'hot-reset-multi' ? 'hot' : 'function',
        );

  return {
    bdf: f.bdf,
    driver: f.driver,
    group: f.group,
    className: f.className,
    capabilities: { ...caps, resetWorks, functionMethod: f.functionReset.method },
    qemu: { needsReset, deviceReset, vmReset },
    hotReset: f.hotReset
      ? {
          kind: f.hotReset.kind,
          target: f.hotReset.target,
          bridge: f.hotReset.bridge,
          affected: f.hotReset.affected,
        }
      : null,
    verdict,
    passedOver,
    predicted,
  };
}
