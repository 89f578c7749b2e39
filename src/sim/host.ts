/**
 * The simulated host: a linked topology plus the state the kernel keeps per function (bound
 * driver, `driver_override`, the reset-method list cached at `pci_device_add`, whether the
 * `reset`/`reset_method` attributes were created) and the IOMMU groups computed at probe time.
 * Everything derived is computed by `pci/` from the description, in the kernel's order.
 * @module
 */

import type { Era } from '../pci/era.ts';
import { computeIommuGroups, type IommuGroups } from '../pci/iommu-groups.ts';
import type { HostDesc } from '../pci/model.ts';
import { initResetMethods, type ResetMethod, RUNTIME_CONTEXT, resetChain2013 } from '../pci/reset-methods.ts';
import { type PciFunction, Topology } from '../pci/topology.ts';

export interface SimOptions {
  era: Era;
  /** IOMMU enabled (intel_iommu=on): groups exist and /sys/kernel/iommu_groups is present. */
  iommu: boolean;
}

export const DEFAULT_SIM_OPTIONS: SimOptions = { era: '6.1', iommu: true };

/** Kernel state of one function. */
export interface SimFunctionState {
  readonly fn: PciFunction;
  driver: string | null;
  driverOverride: string | null;
  /** `dev->reset_methods[]` (M1–M3); the 2013 era has no cached list (M8) and keeps it empty. */
  resetMethods: ResetMethod[];
  /** `reset_method` exists (Y1: decided once, at registration; never in 2013, which had no such attribute). */
  resetMethodAttr: boolean;
  /** `reset` exists (Y1; in 2013, created by the late sysfs init when a reset probed, M8). */
  resetAttr: boolean;
}

export class SimHost {
  readonly topology: Topology;
  readonly options: SimOptions;
  readonly groups: IommuGroups;
  private readonly states: Map<string, SimFunctionState>;

  constructor(desc: HostDesc, options: Partial<SimOptions> = {}) {
    this.options = { ...DEFAULT_SIM_OPTIONS, ...options };
    this.topology = Topology.build(desc);
    this.groups = computeIommuGroups(this.topology, { iommu: this.options.iommu });
    const methods =
      this.options.era === '2013' ? new Map<string, ResetMethod[]>() : initResetMethods(this.topology);
    this.states = new Map(
      this.topology.functions.map((fn) => {
        const list = methods.get(fn.name) ?? [];
        return [
          fn.name,
          {
            fn,
            driver: fn.desc.driver,
            driverOverride: fn.desc.driverOverride,
            resetMethods: [...list],
            resetMethodAttr: this.options.era !== '2013' && list.length > 0,
            // 2013: pci_sysfs_init runs after enumeration, so its probe sees the whole bus (M8).
            resetAttr:
              this.options.era === '2013' ? resetChain2013(fn, RUNTIME_CONTEXT).errno === 0 : list.length > 0,
          },
        ];
      }),
    );
  }

  get name(): string {
    return this.topology.name;
  }

  state(name: string): SimFunctionState | undefined {
    return this.states.get(name);
  }

  /** States in registration order. */
  allStates(): SimFunctionState[] {
    return this.topology.functions.map((f) => this.states.get(f.name)!);
  }
}
