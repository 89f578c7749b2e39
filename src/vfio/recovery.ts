/**
 * Error recovery for a device the caller owns through VFIO — what a VMM does with vfio-pci's AER
 * notification (QEMU's `vfio_err_notifier_handler`, minus stopping the VM):
 * 1. `watchErrors`: checks that the device reports errors (`VFIO_PCI_ERR_IRQ_INDEX` has count 1,
 *    which vfio-pci gives PCIe functions only), sets an eventfd as its trigger, and records the
 *    BAR sizes the kernel reports now.
 * 2. `recoverFromError`: waits for the event; resets the device — a function reset when the kernel
 *    says one works (VFIO_DEVICE_FLAGS_RESET), else or when it fails (a pm reset cannot run on a
 *    device that reads all-ones), a hot reset; then reads the BAR sizes again instead of assuming
 *    them, and reports any change (a device can come back different after a reset, e.g. when a
 *    firmware update took effect), and whether its config space answers again.
 * @module
 */

import { VFIO_PCI_IRQ_INDEX } from '../uapi/vfio-irqs.ts';
import { VfioError } from './errors.ts';
import { barSizes, irqInfo, waitEventfd } from './irqs.ts';
import { kernelCall } from './kernel-calls.ts';
import { readConfig } from './locate.ts';
import type { SessionDevice, VfioSession } from './session.ts';
import { notifyCalls, setTrigger, triggerEventfd } from './trigger.ts';

export interface ErrorWatch<D extends SessionDevice = SessionDevice> {
  readonly dev: D;
  /** The eventfd set as the device's ERR trigger. */
  readonly efd: number;
  /** BAR0–5 sizes when the watch started. */
  readonly bars: number[];
}

export interface BarChange {
  bar: number;
  before: number;
  after: number;
}

export interface RecoveryReport {
  bdf: string;
  /** Error events read from the eventfd (1 per error_detected). */
  events: number;
  /** The reset that recovered the device, or null when none worked. */
  reset: 'function-reset' | 'hot-reset' | null;
  /** Each reset tried, in order, with the error of those that failed. */
  attempts: { reset: 'function-reset' | 'hot-reset'; error: string | null }[];
  /** BAR sizes re-read after the reset, compared with those at `watchErrors`. */
  barChanges: BarChange[];
  /** Whether the device's config space answers (its vendor id is not all-ones) after the reset. */
  answering: boolean | null;
}

export function watchErrors<D extends SessionDevice>(session: VfioSession<D>, dev: D): ErrorWatch<D> {
  const sys = session.host.sys;
  let count: number;
  try {
    count = kernelCall(notifyCalls(session), `VFIO_DEVICE_GET_IRQ_INFO ERR ${dev.bdf}`, dev.bdf, () =>
      irqInfo(sys, dev.fd, VFIO_PCI_IRQ_INDEX.ERR),
    ).count;
  } catch (e) {
    // vfio-pci refuses the ERR index of a conventional PCI function with EINVAL.
    if (!(e instanceof VfioError) || e.errno !== 'EINVAL') throw e;
    count = 0;
  }
  if (count !== 1)
    throw new VfioError(
      'VFIO_RESET_E_NO_ERROR_REPORTING',
      `${dev.bdf} reports no errors through VFIO (VFIO_PCI_ERR_IRQ_INDEX has ${count} vector(s)): only PCIe functions do`,
      { step: 'VFIO_DEVICE_GET_IRQ_INFO', bdf: dev.bdf },
    );
  const efd = triggerEventfd(session, dev, 'ERR');
  return { dev, efd, bars: readBars(session, dev) };
}

function readBars(session: VfioSession, dev: SessionDevice): number[] {
  return kernelCall(notifyCalls(session), `VFIO_DEVICE_GET_REGION_INFO ${dev.bdf}`, dev.bdf, () =>
    barSizes(session.host.sys, dev.fd),
  );
}

/** Waits up to `timeoutMs` for an error on the watched device, then recovers it (see the module comment). */
export function recoverFromError<D extends SessionDevice>(
  session: VfioSession<D>,
  watch: ErrorWatch<D>,
  timeoutMs: number,
): RecoveryReport {
  const { dev } = watch;
  const events = waitEventfd(session.host.sys, watch.efd, timeoutMs);
  if (events === 0)
    throw new VfioError(
      'VFIO_RESET_E_NO_EVENT',
      `no error was reported for ${dev.bdf} within ${timeoutMs} ms`,
      {
        step: 'poll ERR eventfd',
        bdf: dev.bdf,
      },
    );
  const report: RecoveryReport = {
    bdf: dev.bdf,
    events,
    reset: null,
    attempts: [],
    barChanges: [],
    answering: null,
  };
  const plan: ('function-reset' | 'hot-reset')[] = dev.resetWorks
    ? ['function-reset', 'hot-reset']
    : ['hot-reset'];
  for (const reset of plan) {
    try {
      if (reset === 'function-reset') session.functionReset(dev);
      else session.hotReset(dev);
      report.attempts.push({ reset, error: null });
      report.reset = reset;
      break;
    } catch (e) {
      if (!(e instanceof VfioError)) throw e;
      report.attempts.push({ reset, error: e.message });
    }
  }
  if (report.reset === null) return report;
  const after = readBars(session, dev);
  report.barChanges = after.flatMap((size, bar) =>
    size === watch.bars[bar] ? [] : [{ bar, before: watch.bars[bar] ?? 0, after: size }],
  );
  const config = readConfig(session.host.sysfs, dev.bdf);
  report.answering = config === null ? null : !(config[0] === 0xff && config[1] === 0xff);
  return report;
}

/** Removes the ERR trigger and closes the eventfd. */
export function stopWatching(session: VfioSession, watch: ErrorWatch): void {
  setTrigger(session, watch.dev, 'ERR', -1);
  session.host.sys.close(watch.efd);
}

/** "BAR1 256 MiB → 16 GiB" for a report. */
export function formatBarChange(c: BarChange): string {
  return `BAR${c.bar} ${formatSize(c.before)} → ${formatSize(c.after)}`;
}

export function formatSize(n: number): string {
  if (n === 0) return 'none';
  for (const [unit, v] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const)
    if (n >= v && n % v === 0) return `${n / v} ${unit}`;
  return `${n} B`;
}
