/**
 * The simulated PCI core's contract: per-function runtime state (power, config image, locks,
 * readiness) and the reset entry points the kernel's PCI core offers to VFIO and sysfs —
 * `pci_try_reset_function` / `pci_reset_function` (M6), `pci_reset_bus` (P3, X1–X3), probing —
 * each advancing the virtual clock exactly as §7 says and logging what Linux would print.
 * The VFIO layer (`sim/vfio/`) only uses this interface; `sim/pci-exec.ts` implements it.
 * @module
 */

import type { Era } from '../pci/era.ts';
import type { BusVia, ResetMethod } from '../pci/reset-methods.ts';
import type { PciFunction } from '../pci/topology.ts';
import type { ErrnoName } from '../uapi/errno.ts';

export type PowerState = 'D0' | 'D3hot' | 'D3cold';

/** How a function answers config reads after a reset (pci_dev_wait, W1). */
export type Readiness =
  | { kind: 'ready' }
  /** Answers CRS / all-ones for this long after each reset, then is ready. */
  | { kind: 'late'; afterMs: number }
  /** Never becomes ready again (CRS forever): the 60 s poll gives up with ENOTTY. */
  | { kind: 'never' };

export interface PciDevState {
  readonly fn: PciFunction;
  /** False once the function was hot-removed (surprise removal, or pciehp seeing the link drop). */
  present: boolean;
  power: PowerState;
  /** Current config image (4096 bytes; the live registers). */
  config: Uint8Array;
  /** Device-internal state left by the user (firmware sessions, queues); any reset clears it to 0. */
  internalState: number;
  readiness: Readiness;
  /** Another thread holds `device_lock` (fault injection): trylocks fail with EAGAIN (D3, X1). */
  deviceLockHeld: boolean;
  /**
   * An uncorrectable (AER) error the function signalled and no reset has cleared yet (`sim/aer.ts`):
   * config reads return all-ones until the function is reset. `status` is the AER Uncorrectable
   * Error Status bit set.
   */
  uncorrectable: { atMs: number; status: number } | null;
  /** BAR0–BAR5 sizes in bytes (0: not implemented). The topology format has no BARs: set with the `bars` fault. */
  bars: number[];
  /** What the device will look like after its next reset (a firmware update waiting for it), or null. */
  afterReset: { bars: number[] } | null;
  /** Number of resets the function has gone through, and the last one's method. */
  resets: number;
  lastReset: { atMs: number; how: ResetMethod | 'slot' | 'bus' } | null;
}

export type ResetResult = 0 | ErrnoName;

export interface FunctionResetReport {
  errno: ResetResult;
  /** The method that ran (first that did not return ENOTTY, M5), or null. */
  method: ResetMethod | null;
  via: BusVia | null;
  /** Virtual milliseconds the call took. */
  durationMs: number;
}

export interface BusResetReport {
  errno: ResetResult;
  kind: 'slot' | 'bus';
  /** The reset bridge (bus->self). */
  bridge: string;
  /** Functions reset, in walk order (Q3). */
  affected: string[];
  durationMs: number;
}

export interface PciCore {
  readonly era: Era;
  state(bdf: string): PciDevState;
  /**
   * M6/D3: `pci_try_reset_function` (`lock: 'try'`, EAGAIN on contention), `pci_reset_function`
   * (`'block'`, used by sysfs `reset` and by 2013 VFIO), or `__pci_reset_function_locked`
   * (`'held'`: the caller holds the lock; no save/restore, as in vfio close O3).
   * Uses the function's cached `reset_methods` (SimHost state) re-checked now (M4/M5); 2013 probes
   * at call time (M8). Saves/restores config around the reset except in 'held' mode.
   */
  resetFunction(bdf: string, lock: 'try' | 'block' | 'held'): FunctionResetReport;
  /**
   * `pci_reset_bus(pdev)`: slot reset when `pci_probe_reset_slot(pdev->slot)` passes, else bus reset
   * of `pdev->bus` (P3, X1–X3). Trylock of every function in scope (EAGAIN), save, reset + waits (§7.2,
   * §7.3), restore (even after ENOTTY, X3). [2013]: blocking locks, 1 s sleep, never fails.
   */
  resetBus(bdf: string): BusResetReport;
  /**
   * `pci_restore_state` of an image saved earlier — vfio's close restores the state it saved at
   * open, after the close-time reset (O3, `vfio_pci_core_disable`). Config cycles only.
   */
  restoreSavedState(bdf: string): void;
  /**
   * Forces D0 (vfio does this before resets; D3hot→D0 costs the d3hot delay, T6). With
   * `background`, the transition happens off the caller's time, as runtime-PM autosuspend does
   * after the last `pm_runtime_put` (the kernel suspends from a workqueue, not inside close()).
   */
  setPower(bdf: string, state: PowerState, opts?: { background?: boolean }): void;
  /** Fault injection and surprise removal. */
  inject(bdf: string, fault: PciFault): void;
}

export type PciFault =
  | { kind: 'readiness'; readiness: Readiness }
  | { kind: 'hold-device-lock'; held: boolean }
  /** The link of this downstream port does (not) come back after a secondary bus reset. */
  | { kind: 'link-after-reset'; up: boolean }
  | { kind: 'surprise-removal' }
  /** The user (or firmware) changed device state; a reset must clear it. */
  | { kind: 'dirty'; value: number }
  /** The device's BAR0–BAR5 sizes now (bytes; missing entries are 0). */
  | { kind: 'bars'; sizes: number[] }
  /** New BAR sizes the device takes at its next reset (firmware updated, activated by reset). */
  | { kind: 'after-reset'; bars: number[] };
