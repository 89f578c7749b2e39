/**
 * Virtual time for the simulated kernel, with the sleep model of kernel-semantics §7.1:
 * `msleep(ms)` is jiffy based — it lasts at least `ms` and at most `ceil(ms·HZ/1000) + 1` ticks,
 * and in a guest each sleep may overshoot by one more tick (T0, T1). `usleep_range(a, b)` is
 * hrtimer based and lasts `b`. Time only moves forward.
 *
 * Kernel timers (`at`) run when time reaches their deadline, whoever moves it — a sleep inside a
 * syscall or a process waiting in `poll` — each at its own deadline, in deadline order.
 * @module
 */

export interface ClockModel {
  /** Kernel tick rate (Debian: 250, so 4 ms ticks). */
  hz: number;
  /** Extra time added to every msleep: 0 on bare metal; one tick (4 ms) matched the QEMU guest (§9.1). */
  extraMs: number;
  /** Where in the jiffy window an msleep ends: 'max' = ceil(ms/tick)+1 ticks (what a busy guest shows), 'min' = ms. */
  rounding: 'min' | 'max';
  /**
   * Cost of a config-space save or restore of one PCIe function, in ms (`pci_save_state` /
   * `pci_restore_state`: the header plus the PCIe, PM, MSI/MSI-X, LTR … capability registers, dozens
   * of config cycles). Guest value calibrated on the rig (docs/conformance.md): an e1000e's open
   * (PM reset 24 ms + save + restore) and close (PM reset + restore of the open-time image).
   */
  configAccessMs: number;
  /**
   * The same for a conventional PCI function: only the 64-byte header when it has no capabilities
   * (the rig's e1000 behind the pcie-pci-bridge: a hot reset of two of them costs msleep(2) and
   * next to nothing else).
   */
  conventionalConfigMs: number;
}

export const BARE_METAL: ClockModel = {
  hz: 250,
  extraMs: 0,
  rounding: 'max',
  configAccessMs: 0.5,
  conventionalConfigMs: 0.1,
};
/**
 * Calibrated against the rig's QEMU/TCG guest (kernel-rig.md; §9.4; docs/conformance.md): 102
 * link-poll msleep(10) of a hot reset that fails take 2044 ms, i.e. 4 ms over the jiffy-rounded
 * 16 ms each; a PCIe function's save or restore ≈ 3.4 ms; a capability-less e1000's ≈ 0.3 ms.
 */
export const QEMU_GUEST: ClockModel = {
  hz: 250,
  extraMs: 4,
  rounding: 'max',
  configAccessMs: 3.4,
  conventionalConfigMs: 0.3,
};

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

export class SimClock {
  readonly model: ClockModel;
  private t = 0;
  private timers: Timer[] = [];
  private seq = 0;

  constructor(model: ClockModel = QEMU_GUEST) {
    this.model = model;
  }

  /** Milliseconds since the simulated boot. */
  now(): number {
    return this.t;
  }

  /** What msleep(ms) lasts under this model. */
  msleepDuration(ms: number): number {
    const tick = 1000 / this.model.hz;
    const base = this.model.rounding === 'max' ? (Math.ceil(ms / tick) + 1) * tick : ms;
    return base + this.model.extraMs;
  }

  msleep(ms: number): void {
    this.advance(this.msleepDuration(ms));
  }

  /** usleep_range(min, max) in microseconds: hrtimer, ends at max (no jiffy rounding). */
  usleepRange(_minUs: number, maxUs: number): void {
    this.advance(maxUs / 1000);
  }

  advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new RangeError(`clock can only move forward (asked ${ms} ms)`);
    const end = this.t + ms;
    for (let next = this.nextTimer(); next !== null && next <= end; next = this.nextTimer()) {
      const due = this.timers.shift()!;
      this.t = due.at;
      due.run();
    }
    this.t = end;
  }

  /** Runs `run` once when the clock reaches `atMs` (a kernel timer); returns its cancel function. */
  at(atMs: number, run: () => void): () => void {
    const timer: Timer = { at: Math.max(atMs, this.t), seq: this.seq++, run };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  /** The deadline of the earliest pending timer, or null. */
  nextTimer(): number | null {
    return this.timers[0]?.at ?? null;
  }
}
