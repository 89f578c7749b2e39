/**
 * Reset strategies a VMM can ask for. `qemu` replays QEMU's per-device policy (hw/vfio/pci.c
 * `vfio_pci_reset`, research/peers.md §1.1): the kernel's function reset when it works and is
 * not merely a PM reset; else a hot reset that touches no other in-use device; else, as a last
 * resort, the PM reset. QEMU reads FLR and No_Soft_Reset from config space, not from the kernel's
 * method list, and so does this.
 * @module
 */

import type { SysfsReader } from '../kernel/sysfs.ts';
import { parseBdf } from '../pci/bdf.ts';
import { parseConfigSpace } from '../pci/config-space.ts';
import { VfioError } from './errors.ts';
import { deviceRef, readConfig } from './locate.ts';
import type { SessionDevice, VfioSession } from './session.ts';

export type ResetAction = 'function-reset' | 'hot-reset' | 'pm-reset';

export interface StrategyStep {
  action: ResetAction;
  /** Why this step was tried (or skipped). */
  why: string;
  outcome: 'done' | 'failed' | 'skipped';
  error: VfioError | null;
}

export interface StrategyResult {
  performed: ResetAction | null;
  steps: StrategyStep[];
}

export interface ResetCapabilities {
  /** PCIe DEVCAP FLR or AF TP+FLR (`vfio_check_pcie_flr`, `vfio_check_af_flr`). */
  hasFlr: boolean;
  /** PM capability with No_Soft_Reset clear (`vfio_check_pm_reset`). */
  hasPmReset: boolean;
}

export function resetCapabilities(session: VfioSession, bdf: string): ResetCapabilities {
  return resetCapabilitiesOf(session.host.sysfs, bdf);
}

/** The same, from sysfs alone (the planner asks before anything is opened). */
export function resetCapabilitiesOf(sysfs: SysfsReader, bdf: string): ResetCapabilities {
  const bytes = readConfig(sysfs, bdf);
  if (!bytes) return { hasFlr: false, hasPmReset: false };
  const cfg = parseConfigSpace(bytes, parseBdf(bdf));
  return {
    hasFlr: cfg.pcie?.flr === true || (cfg.af?.tp === true && cfg.af.flr),
    hasPmReset: cfg.pm !== undefined && !cfg.pm.noSoftReset,
  };
}

/**
 * QEMU's order for one device: (1) VFIO_DEVICE_RESET if reset works and (FLR or no PM reset);
 * (2) a hot reset, refused if another device this session holds is in scope ("single" mode);
 * (3) VFIO_DEVICE_RESET if only the PM reset is left.
 */
export function qemuReset<D extends SessionDevice>(session: VfioSession<D>, dev: D): StrategyResult {
  const caps = resetCapabilities(session, dev.bdf);
  const steps: StrategyStep[] = [];
  const attempt = (action: ResetAction, why: string, run: () => void): boolean => {
    try {
      run();
      steps.push({ action, why, outcome: 'done', error: null });
      return true;
    } catch (e) {
      if (!(e instanceof VfioError)) throw e;
      steps.push({ action, why, outcome: 'failed', error: e });
      return false;
    }
  };
  const skip = (action: ResetAction, why: string) =>
    steps.push({ action, why, outcome: 'skipped', error: null });

  if (dev.resetWorks && (caps.hasFlr || !caps.hasPmReset)) {
    if (
      attempt(
        'function-reset',
        caps.hasFlr
          ? 'the kernel reset works and the device has FLR'
          : 'the kernel reset works and is not a PM reset',
        () => session.functionReset(dev),
      )
    ) {
      return { performed: 'function-reset', steps };
    }
  } else {
    skip(
      'function-reset',
      dev.resetWorks
        ? 'only a PM reset is available; QEMU ranks it last'
        : 'the kernel reports no working function reset',
    );
  }

  const others = session.heldDevices().filter((d) => d !== dev);
  const single = () => {
    const info = session.hotResetInfo(dev);
    const hit = others.find((o) => info.entries.some((e) => e.bdf === o.bdf));
    if (hit) {
      throw new VfioError(
        'VFIO_RESET_E_NOT_OWNED',
        `a single-device hot reset of ${dev.bdf} would also reset ${hit.bdf}, which is in use; QEMU leaves that to the VM-wide reset`,
        {
          step: 'hot-reset (single)',
          bdf: dev.bdf,
          blocker: deviceRef(session.host.sysfs, hit.bdf),
        },
      );
    }
    session.hotReset(dev);
  };
  if (attempt('hot-reset', 'a bus or slot reset that touches no other in-use device', single))
    return { performed: 'hot-reset', steps };

  if (dev.resetWorks && caps.hasPmReset && !caps.hasFlr) {
    if (attempt('pm-reset', 'last resort: the kernel reset is a PM reset', () => session.functionReset(dev)))
      return { performed: 'pm-reset', steps };
  } else {
    skip('pm-reset', 'no PM-only kernel reset to fall back to');
  }
  return { performed: null, steps };
}
