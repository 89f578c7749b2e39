/**
 * One reset of one device through VFIO, as a report: which kind of reset ran (or was refused),
 * every affected function with its group and driver, and the error as data. Used by the CLI's
 * `reset` and by views; the session underneath is the ordinary group-mode client.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import type { KernelHost } from '../kernel/syscalls.ts';
import { formatBdf, parseBdf } from '../pci/bdf.ts';
import { CdevSession, hostHasCdev } from './cdev-session.ts';
import { VfioError } from './errors.ts';
import { GroupSession } from './group-session.ts';
import { deviceRef } from './locate.ts';
import type { VfioSession } from './session.ts';
import { qemuReset, type StrategyStep } from './strategy.ts';

export type ResetMethodChoice = 'function' | 'hot' | 'auto';

export interface ResetReport {
  bdf: string;
  requested: ResetMethodChoice;
  /** What actually ran: a function reset, a hot reset, a PM reset (QEMU's last resort), or nothing. */
  performed: 'function-reset' | 'hot-reset' | 'pm-reset' | null;
  ok: boolean;
  affected: DeviceRef[];
  /** For `auto`: QEMU's policy, step by step. */
  steps: { action: string; why: string; outcome: string; error: string | null }[];
  error: {
    code: string;
    message: string;
    errno: string | null;
    rule: string | null;
    blocker: DeviceRef | null;
  } | null;
  /**
   * Milliseconds by phase, when a clock was given: opening (the kernel resets a device at its first
   * open, O1), the reset itself, and closing (the close-time reset, O3/O4).
   */
  timing: { openMs: number; resetMs: number; closeMs: number } | null;
  /** The session mode used: group (container + group fds) or cdev (iommufd, empty fd array). */
  mode: 'group' | 'cdev';
}

function errorData(e: VfioError): NonNullable<ResetReport['error']> {
  return { code: e.code, message: e.message, errno: e.errno, rule: e.rule, blocker: e.blocker };
}

const stepData = (s: StrategyStep) => ({
  action: s.action,
  why: s.why,
  outcome: s.outcome,
  error: s.error?.message ?? null,
});

export type SessionMode = 'group' | 'cdev' | 'auto';

/** `auto`: cdev when the kernel offers the device's cdev (6.6+, `vfio-dev/vfioN` in sysfs), else group mode. */
export function chooseMode(host: KernelHost, bdf: string, mode: SessionMode): 'group' | 'cdev' {
  if (mode !== 'auto') return mode;
  return hostHasCdev(host, bdf) ? 'cdev' : 'group';
}

export function resetDevice(
  host: KernelHost,
  bdfText: string,
  method: ResetMethodChoice,
  now?: () => number,
  mode: SessionMode = 'auto',
): ResetReport {
  const bdf = formatBdf(parseBdf(bdfText));
  const report: ResetReport = {
    bdf,
    requested: method,
    performed: null,
    ok: false,
    affected: [],
    steps: [],
    error: null,
    timing: null,
    mode: 'group',
  };
  const session: VfioSession =
    chooseMode(host, bdf, mode) === 'cdev' ? new CdevSession(host) : new GroupSession(host);
  report.mode = session.mode;
  const marks: number[] = [];
  const mark = () => {
    if (now) marks.push(now());
  };
  mark();
  try {
    const dev = session.openDevice(bdf);
    mark();
    if (method === 'function') {
      session.functionReset(dev);
      report.performed = 'function-reset';
      report.affected = [deviceRef(host.sysfs, bdf)];
    } else if (method === 'hot') {
      report.affected = session.hotReset(dev).affected;
      report.performed = 'hot-reset';
    } else {
      const r = qemuReset(session, dev);
      report.steps = r.steps.map(stepData);
      report.performed = r.performed;
      if (r.performed === null) {
        const last = [...r.steps].reverse().find((s) => s.error);
        if (last?.error) report.error = errorData(last.error);
      } else {
        report.affected =
          r.performed === 'hot-reset'
            ? session.hotResetInfo(dev).entries.map((e) => deviceRef(host.sysfs, e.bdf))
            : [deviceRef(host.sysfs, bdf)];
      }
    }
    report.ok = report.performed !== null;
  } catch (e) {
    if (!(e instanceof VfioError)) throw e;
    report.error = errorData(e);
  } finally {
    if (marks.length === 2) mark(); // the reset ran (or was refused after the open)
    session.close();
    mark();
  }
  if (marks.length === 4) {
    const [a, b, c, d] = marks as [number, number, number, number];
    report.timing = { openMs: b - a, resetMs: c - b, closeMs: d - c };
  }
  return report;
}
