/**
 * Carrying out a bind plan and undoing it, through the kernel boundary only: `driver_override`,
 * the current driver's `unbind`, `drivers_probe` — the way kernel-rig.md binds devices — so the
 * same code binds on the simulated kernel and, after `linux/safety.ts` said yes, on a real one.
 * Every change is recorded before it is made, so a failure half-way still leaves a record that
 * `restore` can undo.
 * @module
 */

import { parseDriverOverride } from '../host/read-sysfs.ts';
import type { KernelHost } from '../kernel/syscalls.ts';
import { driverOf } from '../vfio/locate.ts';
import type { BindPlan, MemberAction } from './bind-plan.ts';
import type { RestoreEntry } from './restore-record.ts';

export const VFIO_DRIVER = 'vfio-pci';

/** Called before each device: how far along, and what is about to happen. */
export type Progress = (done: number, total: number, what: string) => void;

export interface BindStep {
  bdf: string;
  group: number;
  action: MemberAction;
  from: string | null;
  /** The driver after the step. */
  to: string | null;
  ok: boolean;
  error: string | null;
}

export interface BindRun {
  steps: BindStep[];
  /** What each changed device had before: the restore record's entries. */
  restore: RestoreEntry[];
  ok: boolean;
}

function overrideOf(host: KernelHost, bdf: string): string | null {
  const p = `bus/pci/devices/${bdf}/driver_override`;
  return host.sysfs.kind(p) === null ? null : parseDriverOverride(host.sysfs.readText(p));
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Binds every `bind` member of every group; stops at the first failure (what is done stays recorded). */
export function executeBind(host: KernelHost, plan: BindPlan, progress: Progress = () => {}): BindRun {
  const members = plan.groups.flatMap((g) => g.members.map((m) => ({ ...m, id: g.id })));
  const steps: BindStep[] = [];
  const restore: RestoreEntry[] = [];
  let failed = false;
  members.forEach((m, i) => {
    const from = driverOf(host.sysfs, m.bdf);
    if (failed || m.action !== 'bind') {
      steps.push({
        bdf: m.bdf,
        group: m.id,
        action: m.action,
        from,
        to: from,
        ok: !failed,
        error: failed ? 'not tried: an earlier bind failed' : null,
      });
      return;
    }
    progress(i, members.length, `bind ${m.bdf} (group ${m.id}) ${from ?? 'no driver'} → ${VFIO_DRIVER}`);
    restore.push({ bdf: m.bdf, group: m.id, driver: from, driverOverride: overrideOf(host, m.bdf) });
    let error: string | null = null;
    try {
      host.sys.writeSysfs(`bus/pci/devices/${m.bdf}/driver_override`, VFIO_DRIVER);
      if (from !== null && from !== VFIO_DRIVER) host.sys.writeSysfs(`bus/pci/drivers/${from}/unbind`, m.bdf);
      host.sys.writeSysfs('bus/pci/drivers_probe', m.bdf);
    } catch (e) {
      error = message(e);
    }
    const to = driverOf(host.sysfs, m.bdf);
    if (error === null && to !== VFIO_DRIVER)
      error = `${m.bdf} is bound to ${to ?? 'no driver'} after drivers_probe, not ${VFIO_DRIVER} (see the kernel log)`;
    failed = error !== null;
    steps.push({ bdf: m.bdf, group: m.id, action: m.action, from, to, ok: !failed, error });
  });
  progress(members.length, members.length, 'bound');
  return { steps, restore, ok: !failed };
}

export interface RestoreStep {
  bdf: string;
  from: string | null;
  /** The driver recorded, which it should have again. */
  want: string | null;
  to: string | null;
  outcome: 'restored' | 'unchanged' | 'failed';
  error: string | null;
}

/**
 * Puts every recorded device back: `driver_override` set to the original driver (so exactly that
 * driver matches), unbind from the current one, `drivers_probe`, then `driver_override` back to what
 * it was. Goes on after a failure: each device is independent.
 */
export function executeRestore(
  host: KernelHost,
  entries: readonly RestoreEntry[],
  progress: Progress = () => {},
): RestoreStep[] {
  return entries.map((e, i) => {
    const from = driverOf(host.sysfs, e.bdf);
    const sameOverride = overrideOf(host, e.bdf) === e.driverOverride;
    if (from === e.driver && sameOverride)
      return { bdf: e.bdf, from, want: e.driver, to: from, outcome: 'unchanged', error: null };
    progress(i, entries.length, `restore ${e.bdf} ${from ?? 'no driver'} → ${e.driver ?? 'no driver'}`);
    let error: string | null = null;
    try {
      const dev = `bus/pci/devices/${e.bdf}`;
      if (from !== e.driver) {
        host.sys.writeSysfs(`${dev}/driver_override`, e.driver ?? '\n');
        if (from !== null) host.sys.writeSysfs(`bus/pci/drivers/${from}/unbind`, e.bdf);
        if (e.driver !== null) host.sys.writeSysfs('bus/pci/drivers_probe', e.bdf);
      }
      host.sys.writeSysfs(`${dev}/driver_override`, e.driverOverride ?? '\n');
    } catch (err) {
      error = message(err);
    }
    const to = driverOf(host.sysfs, e.bdf);
    if (error === null && to !== e.driver)
      error = `${e.bdf} is bound to ${to ?? 'no driver'}, not ${e.driver ?? 'no driver'}, after drivers_probe`;
    return { bdf: e.bdf, from, want: e.driver, to, outcome: error === null ? 'restored' : 'failed', error };
  });
}
