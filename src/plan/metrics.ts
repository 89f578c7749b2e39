/**
 * Reset readiness per device, for fleet monitoring (`scan --format prometheus`): for every
 * function a VM could be given (no bridges), whether the planner finds a reset for it when it is
 * given to a VM alone, and the sizes that decide how hard that is.
 * @module
 */

import { type Inventory, problemsOf } from '../host/inventory.ts';
import { isBridgeKind } from '../pci/class-names.ts';
import { isVfioDriver } from '../pci/drivers.ts';
import type { ResetCapabilities } from '../vfio/strategy.ts';
import { NO_HOST_USE } from './host-use.ts';
import { buildPlan } from './plan.ts';

export interface DeviceMetrics {
  bdf: string;
  driver: string | null;
  group: number | null;
  resettable: boolean;
  resetMethods: number;
  /** Functions a hot reset of it hits (0: no hot reset). */
  hotResetScope: number;
  groupSize: number;
  boundToVfio: boolean;
  blockers: number;
}

export function deviceMetrics(
  inv: Inventory,
  capabilities: (bdf: string) => ResetCapabilities,
): DeviceMetrics[] {
  const sizes = new Map(inv.groups.map((g) => [g.id, g.members.length]));
  return inv.functions
    .filter((f) => !isBridgeKind(f.kind))
    .map((f) => {
      const plan = buildPlan({
        inventory: inv,
        requested: [f.bdf],
        capabilities,
        hostUse: NO_HOST_USE,
        predict: null,
      });
      const verdict = plan.devices[0]?.verdict.kind ?? 'not-resettable';
      return {
        bdf: f.bdf,
        driver: f.driver,
        group: f.group,
        resettable: verdict !== 'not-resettable',
        resetMethods: f.resetMethods.length,
        hotResetScope: f.hotReset?.affected.length ?? 0,
        groupSize: f.group === null ? 0 : (sizes.get(f.group) ?? 0),
        boundToVfio: isVfioDriver(f.driver),
        blockers: problemsOf(f).filter((p) => p.severity === 'blocker').length,
      };
    });
}
