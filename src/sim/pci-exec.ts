/**
 * The simulated PCI core (`PciCore`): runs function resets, slot resets and bus resets on a
 * `SimHost` the way drivers/pci/pci.c and drivers/pci/hotplug/pciehp_hpc.c do, advancing the
 * virtual clock by every sleep the kernel takes (kernel-semantics §7) and printing what Linux
 * prints. Per-function runtime state (power, live config image, device-internal state, readiness,
 * locks) lives here; the cached reset-method lists live in `SimHost`.
 *
 * Read from Linux 6.1.y (`pci_dev_wait`, `pcie_flr`, `pci_af_flr`, `pci_pm_reset`,
 * `pcie_wait_for_link_delay`, `pci_bridge_wait_for_secondary_bus`, `pci_reset_secondary_bus`,
 * `pci_bus_trylock`, `pci_slot_trylock`, `pci_bus_save_and_disable_locked`,
 * `pci_bus_restore_locked`, `__pci_reset_bus`, `__pci_reset_slot`, `pci_reset_function`,
 * `pci_try_reset_function`), the 6.1 stable back-port "PCI: Unify delay handling for reset and
 * resume", current mainline for [6.6+] (`pcie_wait_for_link_status`, the ≤5 GT/s branch with
 * `PCI_RESET_WAIT`), and pciehp `pciehp_reset_slot` / `pciehp_handle_presence_or_link_change`.
 *
 * Modelling choices (each also marked where it is made):
 * - Idle devices: the FLR pending-transaction wait costs nothing; `imm_ready` is never set.
 * - `device_specific` resets take the shape of the quirk (most end in an FLR); `acpi` (`_RST`) has
 *   no kernel-imposed sleep and costs `FIRMWARE_METHOD_MS`.
 * - A function that is not present is disconnected: it reads all-ones and ignores resets, but stays
 *   on its bus list (its `pci_dev` lives while vfio-pci holds it); [6.6+] `pci_dev_wait` gives up
 *   on it at once (W3).
 * - Links: a port's DLLLA comes back after a reset iff `desc.pcie.linkActive` (or the
 *   `link-after-reset` fault) says so, and it is back at the first read after the 20 ms.
 * - pciehp slots: with working Command Completed the Slot Control waits cost nothing (T3).
 * - PH1: only the bridge whose SBR is issued is considered; hotplug ports *inside* a reset scope
 *   are not. Hot-remove/add is reported after the reset returns (pciehp's removal needs the device
 *   locks the reset holds).
 * @module
 */

import { buildConfigSpace, CAP_ID, EXP_REG, findCapability, HDR, PM_REG } from '../pci/config-space.ts';
import type { Era } from '../pci/era.ts';
import { isDownstreamPort, linkSpeedClass } from '../pci/model.ts';
import { deviceSpecificReset } from '../pci/quirks.ts';
import {
  type BusVia,
  functionResetOutcome,
  type ResetErrno,
  type ResetMethod,
  type ResetOutcome,
  type ResetProbeContext,
  resetChain2013,
} from '../pci/reset-methods.ts';
import { busScope, pciResetBusTarget, slotScope } from '../pci/reset-scope.ts';
import { type PciFunction, type PciSlot, Topology } from '../pci/topology.ts';
import type { SimClock } from './clock.ts';
import type { SimHost } from './host.ts';
import type { KernelLog } from './log.ts';
import type {
  BusResetReport,
  FunctionResetReport,
  PciCore,
  PciDevState,
  PciFault,
  PowerState,
  ResetResult,
} from './pci-core.ts';

/** Kernel constants (§7.6). */
export const PCI_TIMING = {
  /** PCI_RESET_WAIT: devices must answer within 1 s of a conventional reset; pci_dev_wait logs beyond it. */
  resetWaitMs: 1000,
  /** PCIE_RESET_READY_POLL_MS: how long pci_dev_wait keeps polling after a reset. */
  readyPollMs: 60000,
  /** PCI_PM_D3HOT_WAIT: d3hot_delay of a function with a PM capability. */
  d3hotMs: 10,
  /** PCI_PM_D3COLD_WAIT: d3cold_delay of a function with a PM capability (else 0). */
  d3coldMs: 100,
  /** FLR / AF FLR: "a device must complete an FLR within 100ms". */
  flrMs: 100,
  /** pci_reset_secondary_bus: SBR asserted for 2 ms (Trst ≥ 1 ms, doubled). */
  sbrAssertMs: 2,
  /** pcie_wait_for_link_delay: LTSSM must enter Detect within 20 ms. */
  ltssmDetectMs: 20,
  /** [6.1] link poll: a 1000 ms budget spent in msleep(10) steps; [6.6+] PCIE_LINK_RETRAIN_TIMEOUT_MS. */
  linkWaitMs: 1000,
  linkPollMs: 10,
  /** Conventional PCI after reset: Tpvrh + Trhfa = 1000 ms, plus the device delay (WB3). */
  conventionalMs: 1000,
  /** [2013 … 6.1.15] pci_reset_secondary_bus ended with ssleep(1) (T2). */
  legacySbrSettleMs: 1000,
  /** delay_250ms_after_flr quirk. */
  quirkAfterFlrMs: 250,
} as const;

/**
 * ACPI `_RST` (and `reset_ivb_igd`'s one status poll): the kernel imposes no sleep; firmware or
 * MMIO work costs something small. Chosen, not measured.
 */
export const FIRMWARE_METHOD_MS = 1;

/** PCI_COMMAND_INTX_DISABLE: what `pci_dev_save_and_disable` leaves in COMMAND during a reset. */
const COMMAND_INTX_DISABLE = 0x0400;

/** Drivers whose `pci_error_handlers` have `reset_prepare`/`reset_done` (others are warned about on 6.6+, §10.5 #40). */
const DRIVERS_WITH_RESET_HOOKS: ReadonlySet<string> = new Set(['nvme']);

/**
 * A blocking lock (`pci_reset_function`, the 2013 bus/slot reset, 6.11+ bridge lock) met a device
 * lock that another thread holds: Linux would sleep until it is released, and the simulator has
 * no other thread to release it.
 */
export class SimDeadlockError extends Error {
  readonly code = 'VFIO_RESET_E_SIM_DEADLOCK';
  readonly device: string;
  constructor(device: string, what: string) {
    super(
      `${what}: device lock of ${device} is held by another thread; the call would block until it is released`,
    );
    this.name = 'SimDeadlockError';
    this.device = device;
  }
}

const ENOTTY = 'ENOTTY' as const;

/** What a reset scope's physical effect is recorded as (`PciDevState.lastReset.how`). */
type ResetHow = ResetMethod | 'slot' | 'bus';

interface HotplugFollowUp {
  port: PciFunction;
  slot: PciSlot;
  /** Whether the link came back: pciehp re-enumerates only then. */
  linkUp: boolean;
}

export class SimPciCore implements PciCore {
  readonly era: Era;
  private readonly host: SimHost;
  private readonly clock: SimClock;
  private readonly log: KernelLog;
  private readonly states = new Map<string, PciDevState>();
  /** When each function last came out of reset (for `late` readiness, W1). */
  private readonly resetAt = new Map<string, number>();
  /** `link-after-reset` overrides, by port. */
  private readonly linkAfterReset = new Map<string, boolean>();
  /** Plain SBRs on pciehp ports seen during the current call (PH1), handled once it returns. */
  private hotplugFollowUps: HotplugFollowUp[] = [];

  constructor(host: SimHost, clock: SimClock, log: KernelLog) {
    this.host = host;
    this.clock = clock;
    this.log = log;
    this.era = host.options.era;
    for (const fn of host.topology.functions) this.states.set(fn.name, freshState(fn));
  }

  state(bdf: string): PciDevState {
    const s = this.states.get(bdf);
    if (!s) throw new RangeError(`no PCI function ${bdf} on host ${this.host.name}`);
    return s;
  }

  // -------------------------------------------------------------------------------------------
  // Function reset (M4–M8)

  resetFunction(bdf: string, lock: 'try' | 'block' | 'held'): FunctionResetReport {
    const t0 = this.clock.now();
    const st = this.state(bdf);
    const f = st.fn;
    const report = (
      errno: ResetResult,
      method: ResetMethod | null,
      via: BusVia | null,
    ): FunctionResetReport => ({
      errno,
      method,
      via,
      durationMs: this.clock.now() - t0,
    });

    // M6/M7: an empty list fails before any locking. [2013] M8: pci_reset_function probes the chain first.
    const probeOnly = this.context(() => 0);
    const supported =
      this.era === '2013'
        ? resetChain2013(f, probeOnly).errno !== ENOTTY
        : this.hostState(f).resetMethods.length > 0;
    if (!supported) return report(ENOTTY, null, null);

    if (lock === 'try' && st.deviceLockHeld) return report('EAGAIN', null, null);
    if (lock === 'block') {
      if (st.deviceLockHeld) throw new SimDeadlockError(f.name, 'pci_reset_function');
      // 6.11+: pci_reset_function also takes the upstream bridge's lock first (M6).
      const up = f.bus.self;
      if (this.era === '6.6+' && up && this.state(up.name).deviceLockHeld)
        throw new SimDeadlockError(up.name, 'pci_reset_function (upstream bridge)');
    }

    this.hotplugFollowUps = [];
    const saved = lock === 'held' ? null : this.saveAndDisable(f);
    const ctx = this.context((g, m, via) => this.runMethod(g, m, via));
    const outcome: ResetOutcome =
      this.era === '2013'
        ? resetChain2013(f, ctx)
        : functionResetOutcome(f, this.hostState(f).resetMethods, ctx);
    if (saved) this.restore(f, saved);
    this.runHotplugFollowUps();

    this.log.emit({
      kind: 'function-reset',
      device: f.name,
      method: outcome.method ?? 'none',
      result: String(outcome.errno),
    });
    return report(outcome.errno, outcome.method, outcome.via ?? null);
  }

  /**
   * What the kernel sees at reset time. A function that is no longer present stays on its bus list:
   * it is disconnected, but its `pci_dev` lives on while a driver (vfio-pci) still holds it, which is
   * the only time anyone can ask to reset it.
   */
  private context(attempt: NonNullable<ResetProbeContext['attempt']>): ResetProbeContext {
    return {
      busDevices: (bus) => bus.devices,
      slotOf: (g) => g.slot,
      attempt,
    };
  }

  /** The `ctx.attempt` hook: what running method `m` on `f` does, once its own checks passed. */
  private runMethod(f: PciFunction, m: ResetMethod, via: BusVia | null): ResetErrno {
    const st = this.state(f.name);
    switch (m) {
      case 'flr':
        return this.flr(f, 'FLR', 'flr');
      case 'af_flr':
        return this.flr(f, 'AF_FLR', 'af_flr');
      case 'pm':
        return this.pmReset(f);
      case 'device_specific':
        return this.deviceSpecific(f);
      case 'acpi':
        // pci_dev_acpi_reset: evaluate _RST and return; no readiness poll.
        this.clock.advance(FIRMWARE_METHOD_MS);
        if (st.present) this.physicalReset(f, 'acpi');
        return 0;
      case 'bus': {
        if (via === 'slot') {
          const slot = f.slot;
          const port = slot?.bus.self;
          if (!slot || !port) return ENOTTY;
          return this.resetSlotHotplug(slot, port, 'bus');
        }
        const bridge = f.bus.self;
        if (!bridge) return ENOTTY;
        // pci_parent_bus_reset: a plain SBR; a pciehp port above sees its link drop (PH1).
        return this.secondaryBusReset(bridge, 'bus', { maskedBy: null });
      }
      case 'cxl_bus':
        return ENOTTY;
    }
  }

  /**
   * T7: pcie_flr / pci_af_flr. The pending-transaction wait is 0 on an idle device; then FLR,
   * msleep(100) (imm_ready is not modelled), pci_dev_wait(60 s). [2013] T10: the fixed sleep only.
   */
  private flr(f: PciFunction, reason: string, how: ResetHow): ResetErrno {
    const st = this.state(f.name);
    if (st.uncorrectable && this.era !== '2013') {
      // pci_wait_for_pending_transaction: Device Status reads all-ones, so Transactions Pending
      // looks set at each of its four reads (0, +100, +200, +400 ms); pcie_flr goes on anyway.
      for (const ms of [100, 200, 400]) this.clock.msleep(ms);
      this.log.print(
        'err',
        f.name,
        'timed out waiting for pending transaction; performing function level reset anyway',
        this.hostState(f).driver ?? undefined,
      );
    }
    if (st.present) this.physicalReset(f, how);
    this.clock.msleep(PCI_TIMING.flrMs);
    if (this.era === '2013') return 0;
    return this.devWait(f, reason, PCI_TIMING.readyPollMs);
  }

  /** T8: pci_pm_reset — EINVAL outside D0, D3hot, d3hot delay, D0 (the internal reset), delay, pci_dev_wait. */
  private pmReset(f: PciFunction): ResetErrno {
    const st = this.state(f.name);
    // PMCSR of an absent device, or of one in an uncorrectable error, reads all-ones: No_Soft_Reset looks set.
    if (!st.present || st.uncorrectable) return ENOTTY;
    if (st.power !== 'D0') return 'EINVAL';
    this.writePowerState(st, 'D3hot');
    this.d3Sleep();
    this.writePowerState(st, 'D0');
    this.physicalReset(f, 'pm');
    this.d3Sleep();
    if (this.era === '2013') return 0;
    return this.devWait(f, 'PM D3hot->D0', PCI_TIMING.readyPollMs);
  }

  /**
   * pci_dev_d3_sleep: 6.x `usleep_range(d3hot, d3hot·1.2)` (hrtimer, 10–12 ms); [2013] msleep(d3hot)
   * (3.x had no usleep_range there).
   */
  private d3Sleep(): void {
    if (this.era === '2013') this.clock.msleep(PCI_TIMING.d3hotMs);
    else this.clock.usleepRange(PCI_TIMING.d3hotMs * 1000, PCI_TIMING.d3hotMs * 1200);
  }

  /** `pci_dev_reset_methods[]` entries, by the shape of their reset (chosen per quirk; most end in an FLR). */
  private deviceSpecific(f: PciFunction): ResetErrno {
    const quirk = deviceSpecificReset(f.desc);
    if (quirk === 'reset_ivb_igd') {
      // MMIO handshake, one status poll on an idle device.
      this.clock.advance(FIRMWARE_METHOD_MS);
      if (this.state(f.name).present) this.physicalReset(f, 'device_specific');
      return 0;
    }
    const r = this.flr(f, 'FLR', 'device_specific');
    if (quirk === 'delay_250ms_after_flr' && r === 0) this.clock.msleep(PCI_TIMING.quirkAfterFlrMs);
    return r;
  }

  // -------------------------------------------------------------------------------------------
  // Bus and slot reset (P3, X1–X4)

  resetBus(bdf: string): BusResetReport {
    const t0 = this.clock.now();
    const f = this.state(bdf).fn;
    const target = pciResetBusTarget(f, this.era);
    const done = (
      errno: ResetResult,
      kind: 'slot' | 'bus',
      bridge: PciFunction | null,
      affected: readonly PciFunction[],
    ): BusResetReport => ({
      errno,
      kind,
      bridge: bridge?.name ?? '',
      affected: affected.map((g) => g.name),
      durationMs: this.clock.now() - t0,
    });

    let kind: 'slot' | 'bus';
    let bridge: PciFunction | null;
    let scope: PciFunction[];
    let locks: PciFunction[];
    let slot: PciSlot | null = null;
    if (target.kind === 'slot') {
      kind = 'slot';
      slot = target.slot;
      bridge = slot.bus.self;
      scope = slotScope(slot);
      // X2: pci_slot_trylock locks the slot's functions and their subtrees, not the bridge above.
      locks = scope;
    } else {
      kind = 'bus';
      bridge = target.bus.self;
      // X1: __pci_reset_bus probes again first.
      if (target.probe !== 0 || !bridge) return done(ENOTTY, kind, bridge, []);
      scope = busScope(target.bus);
      // X1: pci_bus_trylock takes bus->self, then every function top-down ([2013]: no bridge lock).
      locks = this.era === '2013' ? scope : [bridge, ...scope];
    }
    if (!bridge) return done(ENOTTY, kind, bridge, []);

    const held = locks.find((g) => this.state(g.name).deviceLockHeld);
    if (held) {
      // X4: [2013] pci_reset_slot/pci_reset_bus locked blockingly (no EAGAIN before 3.14).
      if (this.era === '2013')
        throw new SimDeadlockError(held.name, kind === 'slot' ? 'pci_reset_slot' : 'pci_reset_bus');
      return done('EAGAIN', kind, bridge, []);
    }

    this.hotplugFollowUps = [];
    const saved = scope.map((g) => this.saveAndDisable(g));
    const errno =
      slot !== null
        ? this.resetSlotHotplug(slot, bridge, 'slot')
        : this.secondaryBusReset(bridge, 'bus', { maskedBy: null });
    // X3: restore even after ENOTTY; T5: before going below a bridge in scope, wait for its bus.
    const reason = kind === 'slot' ? 'slot reset' : 'bus reset';
    scope.forEach((g, i) => {
      this.restore(g, saved[i]!);
      if (g.subordinate && this.era !== '2013') this.waitSecondaryBus(g, reason);
    });
    this.runHotplugFollowUps();

    const names = scope.map((g) => g.name);
    const result = String(errno);
    this.log.emit(
      slot
        ? { kind: 'slot-reset', slot: slot.desc.name, scope: names, result }
        : { kind: 'bus-reset', bridge: bridge.name, scope: names, result },
    );
    return done(errno, kind, bridge, scope);
  }

  /**
   * The slot's hotplug driver's `reset_slot` (only pciehp-like drivers get here, P1).
   * PH2 [6.1]: mask DLLSCE (+PDCE without an attention button) with a Command-Completed wait (≈0
   * with working CC, none with NCCS, T3), SBR + wait, clear the latched events, unmask.
   * PH4 [6.6+, as 6.16+]: no Slot Control writes; the IRQ thread ignores the link change unless the
   * link stays down. PH3 [2013]: mask PDCE, SBR (2 ms + 1 s), return 0.
   */
  private resetSlotHotplug(slot: PciSlot, port: PciFunction, how: ResetHow): ResetErrno {
    return this.secondaryBusReset(port, how, { maskedBy: slot });
  }

  /**
   * `pci_bridge_secondary_bus_reset(bridge)` (§7.2): SBR asserted for msleep(2), then
   * `pci_bridge_wait_for_secondary_bus`. [2013] (T2/X4): msleep(2) + ssleep(1), never fails.
   * `maskedBy` is the pciehp slot whose `reset_slot` wraps this SBR; null for a plain SBR.
   */
  private secondaryBusReset(
    bridge: PciFunction,
    how: ResetHow,
    opts: { maskedBy: PciSlot | null },
  ): ResetErrno {
    this.clock.msleep(PCI_TIMING.sbrAssertMs);
    // Everything below the bridge comes out of reset when SBR is cleared.
    if (bridge.subordinate) Topology.walkBelow(bridge.subordinate, (g) => this.physicalReset(g, how));
    const up = this.linkComesBack(bridge);
    this.setLinkStatus(bridge, up);

    let r: ResetErrno;
    if (this.era === '2013') {
      this.clock.msleep(PCI_TIMING.legacySbrSettleMs);
      r = 0;
    } else {
      r = this.waitSecondaryBus(bridge, 'bus reset');
    }

    const pciehp = this.pciehpSlotBelow(bridge);
    if (pciehp) {
      if (opts.maskedBy === null) {
        // PH1: unmasked, pciehp takes the link drop for a surprise removal (and an insertion if the link is back).
        this.hotplugFollowUps.push({ port: bridge, slot: pciehp, linkUp: up });
      } else if (this.era === '6.6+' && !up) {
        // PH4: the ignored link change is re-raised when the link is still down afterwards.
        this.hotplugFollowUps.push({ port: bridge, slot: pciehp, linkUp: false });
      }
      // [6.1] PH2: the latched DLLSC/PDC are cleared while masked, so nothing follows (even if the link stays down).
    }
    return r;
  }

  /** The pciehp slot on `bridge`'s secondary bus, if the port is hotplug capable and pciehp drives it. */
  private pciehpSlotBelow(bridge: PciFunction): PciSlot | null {
    if (!bridge.desc.pcie?.slot?.hotplugCapable || !bridge.subordinate) return null;
    return bridge.subordinate.slots.find((s) => s.desc.driver === 'pciehp') ?? null;
  }

  /**
   * PH1 aftermath, once the reset (and its device locks) are released: pciehp's IRQ thread reports
   * "Link Down", unbinds and removes every function below the port; if the link is back, "Card
   * present" / "Link Up" and the functions are enumerated again with fresh state. acpiphp (firmware
   * hotplug: only ACPI Notify events, which an SBR does not cause; QEMU raises its hotplug GPE only on
   * device_add/del) and shpchp (presence from slot pins, not the link) see nothing.
   */
  private runHotplugFollowUps(): void {
    const todo = this.hotplugFollowUps;
    this.hotplugFollowUps = [];
    for (const h of todo) {
      const below = h.port.subordinate ? this.present(busScope(h.port.subordinate)) : [];
      const slotName = `pciehp: Slot(${h.slot.desc.name})`;
      this.log.print('info', h.port.name, `${slotName}: Link Down`);
      for (const g of [...below].reverse()) {
        this.state(g.name).present = false;
        this.log.emit({
          kind: 'hot-remove',
          device: g.name,
          reason: 'pciehp: link down after secondary bus reset',
        });
      }
      this.log.print('info', h.port.name, `${slotName}: Card present`);
      if (!h.linkUp) continue;
      this.log.print('info', h.port.name, `${slotName}: Link Up`);
      for (const g of below) {
        const st = this.state(g.name);
        Object.assign(st, {
          ...freshState(g),
          readiness: st.readiness,
          // The device is the same card: enumeration finds the BAR sizes it had.
          bars: st.bars,
          resets: st.resets,
          lastReset: st.lastReset,
        });
        this.resetAt.delete(g.name);
        this.log.emit({ kind: 'hot-add', device: g.name });
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Waits (§7.2, W1–W3)

  /**
   * `pci_bridge_wait_for_secondary_bus(bridge, reason)` — WB1–WB7 for 6.1.y (with the stable
   * back-ports) and [6.6+] (mainline's stricter ≤5 GT/s branch).
   */
  private waitSecondaryBus(bridge: PciFunction, reason: string): ResetErrno {
    // WB1: disconnected bridge, no secondary bus, or nothing on it.
    if (!this.state(bridge.name).present || !bridge.subordinate) return 0;
    const children = bridge.subordinate.devices;
    const child = children[0]; // WB7: only the first device is polled (a disconnected one reads all-ones).
    if (!child) return 0;
    // WB2: min/max combine of d3cold_delay; 0 when no device has a PM capability.
    const delay = maxD3coldDelay(children);
    if (delay === 0) return 0;
    const p = bridge.desc.pcie;
    if (!p) {
      // WB3: conventional PCI: Tpvrh + Trhfa, no readiness check.
      this.clock.msleep(PCI_TIMING.conventionalMs + delay);
      return 0;
    }
    // WB4: a PCIe bridge that is not a downstream port (PCIe→PCI bridge, upstream port).
    if (!isDownstreamPort(bridge.desc)) return 0;

    if (linkSpeedClass(p) === 'le5') {
      // WB5
      this.clock.msleep(delay);
      if (this.era !== '6.6+') return this.devWait(child, reason, PCI_TIMING.readyPollMs - delay);
      if (this.devWait(child, reason, PCI_TIMING.resetWaitMs - delay) === 0) return 0;
      if (!p.dllActiveReporting || !this.linkActive(bridge)) return ENOTTY;
      return this.devWait(child, reason, PCI_TIMING.readyPollMs - PCI_TIMING.resetWaitMs);
    }
    // WB6: > 5 GT/s or unknown speed.
    if (!this.waitForLink(bridge, delay)) {
      const shown = this.era === '6.6+' ? delay : PCI_TIMING.linkWaitMs;
      this.log.print('info', bridge.name, `Data Link Layer Link Active not set in ${shown} msec`);
      return ENOTTY;
    }
    return this.devWait(child, reason, PCI_TIMING.readyPollMs - delay);
  }

  /** `pcie_wait_for_link_delay(port, true, delay)`. */
  private waitForLink(port: PciFunction, delay: number): boolean {
    const p = port.desc.pcie!;
    if (!p.dllActiveReporting) {
      // No link-active reporting: a blind wait, reported as success.
      this.clock.msleep(PCI_TIMING.linkWaitMs + delay);
      return true;
    }
    this.clock.msleep(PCI_TIMING.ltssmDetectMs);
    let up = false;
    if (this.era === '6.6+') {
      // pcie_wait_for_link_status: msleep(1) polls until a jiffies deadline 1000 ms away; the
      // pcie_failed_link_retrain quirk acts only after LBMS or on ASMedia ASM2824 (neither modelled).
      const end = this.clock.now() + PCI_TIMING.linkWaitMs;
      do {
        up = this.linkActive(port);
        if (up) break;
        this.clock.msleep(1);
      } while (this.clock.now() < end);
    } else {
      // [6.1]: up to 101 reads, a 1000 ms budget decremented by 10 per msleep(10).
      for (let budget = PCI_TIMING.linkWaitMs; ; budget -= PCI_TIMING.linkPollMs) {
        up = this.linkActive(port);
        if (up || budget <= 0) break;
        this.clock.msleep(PCI_TIMING.linkPollMs);
      }
    }
    if (up) this.clock.msleep(delay);
    return up;
  }

  /**
   * `pci_dev_wait(dev, reason, timeout)` (W1, W2): poll COMMAND, sleeping 1, 2, 4, … ms while the
   * device answers all-ones; give up with ENOTTY once the next sleep would exceed `timeout`.
   */
  private devWait(f: PciFunction, reason: string, timeout: number): ResetErrno {
    const st = this.state(f.name);
    let delay = 1;
    for (;;) {
      // W3 [6.6+]: a disconnected device is not waited for.
      if (this.era === '6.6+' && !st.present) return ENOTTY;
      if (this.answers(f)) break;
      if (delay > timeout) {
        this.log.print('warn', f.name, `not ready ${delay - 1}ms after ${reason}; giving up`);
        return ENOTTY;
      }
      if (delay > PCI_TIMING.resetWaitMs)
        this.log.print('info', f.name, `not ready ${delay - 1}ms after ${reason}; waiting`);
      this.clock.msleep(delay);
      delay *= 2;
    }
    if (delay > PCI_TIMING.resetWaitMs)
      this.log.print('info', f.name, `ready ${delay - 1}ms after ${reason}`);
    return 0;
  }

  /** Does a config read of `f` return something other than all-ones now (Readiness)? */
  private answers(f: PciFunction): boolean {
    const st = this.state(f.name);
    if (!st.present) return false;
    const since = this.resetAt.get(f.name);
    if (since === undefined) return true;
    switch (st.readiness.kind) {
      case 'ready':
        return true;
      case 'late':
        return this.clock.now() - since >= st.readiness.afterMs;
      case 'never':
        return false;
    }
  }

  private linkComesBack(port: PciFunction): boolean {
    return this.linkAfterReset.get(port.name) ?? port.desc.pcie?.linkActive ?? true;
  }

  /** LNKSTA.DLLLA of a port after a reset of its link. */
  private linkActive(port: PciFunction): boolean {
    return this.state(port.name).present && this.linkComesBack(port);
  }

  private setLinkStatus(port: PciFunction, up: boolean): void {
    const st = this.state(port.name);
    const exp = findCapability(st.config, CAP_ID.exp);
    if (exp === null || !port.desc.pcie) return;
    const at = exp + EXP_REG.lnksta;
    const v = readU16(st.config, at);
    writeU16(st.config, at, up ? v | EXP_REG.lnkstaDllla : v & ~EXP_REG.lnkstaDllla);
  }

  // -------------------------------------------------------------------------------------------
  // Save / restore, power, reset effects

  /**
   * `pci_dev_save_and_disable`: [6.x] force D0 (M6), save config, COMMAND = INTx-disable; 6.6+ warns
   * when the bound driver has no `reset_prepare`. [2013] no D0 forcing. Returns the saved image.
   */
  private saveAndDisable(f: PciFunction): Uint8Array {
    const st = this.state(f.name);
    const driver = this.hostState(f).driver;
    if (this.era === '6.6+' && driver && !DRIVERS_WITH_RESET_HOOKS.has(driver))
      this.log.print('warn', f.name, 'resetting', driver);
    if (this.era !== '2013' && st.power !== 'D0') this.setPower(f.name, 'D0');
    this.clock.advance(this.configCostMs(f));
    const saved = st.config.slice();
    if (st.present) writeU16(st.config, HDR.command, COMMAND_INTX_DISABLE);
    return saved;
  }

  /** What one save or restore of `f`'s config state costs: PCIe functions carry far more registers. */
  private configCostMs(f: PciFunction): number {
    return f.desc.pcie ? this.clock.model.configAccessMs : this.clock.model.conventionalConfigMs;
  }

  restoreSavedState(bdf: string): void {
    this.clock.advance(this.configCostMs(this.state(bdf).fn));
  }

  /** `pci_dev_restore`: write the saved image back (lost on an absent device); 6.6+ "reset done". */
  private restore(f: PciFunction, saved: Uint8Array): void {
    const st = this.state(f.name);
    this.clock.advance(this.configCostMs(f));
    if (st.present) st.config = saved.slice();
    const driver = this.hostState(f).driver;
    if (this.era === '6.6+' && driver && !DRIVERS_WITH_RESET_HOOKS.has(driver))
      this.log.print('warn', f.name, 'reset done', driver);
  }

  /** The device really resets: power-on config, internal state gone, D0. */
  private physicalReset(f: PciFunction, how: ResetHow): void {
    const st = this.state(f.name);
    if (!st.present) return;
    const now = this.clock.now();
    st.config = buildConfigSpace(f.desc);
    st.internalState = 0;
    st.power = 'D0';
    // A reset clears an uncorrectable error and activates what the device waited to become.
    st.uncorrectable = null;
    if (st.afterReset) {
      st.bars = [...st.afterReset.bars];
      st.afterReset = null;
    }
    st.resets += 1;
    st.lastReset = { atMs: now, how };
    this.resetAt.set(f.name, now);
  }

  /**
   * Power transitions as `pci_set_power_state` does them through PMCSR: D0→D3hot and D3hot→D0 each
   * sleep the d3hot delay (T6); a NoSoftRst- device resets itself on D3hot→D0 ("D0 uninitialized":
   * internal state and config are lost; not counted in `resets`). D3cold is the platform's: power
   * returns after the d3cold delay with everything lost. Without a PM capability only D0 exists.
   */
  setPower(bdf: string, state: PowerState, opts: { background?: boolean } = {}): void {
    // Autosuspend runs later on a workqueue: its d3hot delay is nobody's syscall time.
    const sleep = opts.background ? () => {} : () => this.d3Sleep();
    const st = this.state(bdf);
    const f = st.fn;
    const from = st.power;
    if (from === state || !f.desc.pm || !st.present) return;
    if (state === 'D0') {
      if (from === 'D3cold') this.clock.msleep(PCI_TIMING.d3coldMs);
      else sleep();
      if (from === 'D3cold' || !f.desc.pm.noSoftReset) {
        st.config = buildConfigSpace(f.desc);
        st.internalState = 0;
      }
      this.writePowerState(st, 'D0');
      return;
    }
    if (from === 'D0') sleep();
    this.writePowerState(st, state);
  }

  private writePowerState(st: PciDevState, state: PowerState): void {
    st.power = state;
    const pm = findCapability(st.config, CAP_ID.pm);
    if (pm === null) return;
    const at = pm + PM_REG.ctrl;
    // PMCSR PowerState field (bits 1:0); D3cold reads as D3hot where it can be read at all.
    writeU16(st.config, at, (readU16(st.config, at) & ~0x3) | (state === 'D0' ? 0 : 3));
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  inject(bdf: string, fault: PciFault): void {
    const st = this.state(bdf);
    switch (fault.kind) {
      case 'readiness':
        st.readiness = fault.readiness;
        return;
      case 'hold-device-lock':
        st.deviceLockHeld = fault.held;
        return;
      case 'link-after-reset':
        this.linkAfterReset.set(bdf, fault.up);
        return;
      case 'dirty':
        st.internalState = fault.value;
        return;
      case 'bars':
        st.bars = barSizes(fault.sizes);
        return;
      case 'after-reset':
        st.afterReset = { bars: barSizes(fault.bars) };
        return;
      case 'surprise-removal': {
        const gone = [st.fn, ...(st.fn.subordinate ? busScope(st.fn.subordinate) : [])];
        for (const g of gone) {
          const s = this.state(g.name);
          if (!s.present) continue;
          s.present = false;
          this.log.emit({ kind: 'hot-remove', device: g.name, reason: 'surprise removal' });
        }
        return;
      }
    }
  }

  // -------------------------------------------------------------------------------------------

  private hostState(f: PciFunction) {
    const s = this.host.state(f.name);
    if (!s) throw new RangeError(`no host state for ${f.name}`);
    return s;
  }

  private present(list: readonly PciFunction[]): PciFunction[] {
    return list.filter((g) => this.state(g.name).present);
  }
}

function freshState(fn: PciFunction): PciDevState {
  return {
    fn,
    present: true,
    power: 'D0',
    config: buildConfigSpace(fn.desc),
    internalState: 0,
    readiness: { kind: 'ready' },
    deviceLockHeld: false,
    uncorrectable: null,
    bars: barSizes(fn.desc.bars ?? []),
    afterReset: null,
    resets: 0,
    lastReset: null,
  };
}

/** Six BAR sizes: the given ones (non-negative integers), the rest 0. */
function barSizes(sizes: readonly number[]): number[] {
  if (sizes.length > 6 || sizes.some((n) => !Number.isSafeInteger(n) || n < 0))
    throw new RangeError(`BAR sizes: at most 6 non-negative integers (bytes), got ${JSON.stringify(sizes)}`);
  return Array.from({ length: 6 }, (_, i) => sizes[i] ?? 0);
}

/** WB2 `pci_bus_max_d3cold_delay`: start min=100, max=0; result max(min, max). */
function maxD3coldDelay(devices: readonly PciFunction[]): number {
  let min: number = PCI_TIMING.d3coldMs;
  let max = 0;
  for (const d of devices) {
    // pci_pm_init: d3cold_delay = PCI_PM_D3COLD_WAIT with a PM capability, else 0.
    const delay = d.desc.pm ? PCI_TIMING.d3coldMs : 0;
    min = Math.min(min, delay);
    max = Math.max(max, delay);
  }
  return Math.max(min, max);
}

function readU16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function writeU16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >> 8) & 0xff;
}
