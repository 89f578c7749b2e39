/**
 * The outcome of `vfio-reset reset`: what ran, what it hit, how long it took and what the kernel
 * logged — or why it was refused, naming the device in the way.
 * @module
 */

import { type Inventory, type InventoryFunction, problemsOf } from '../host/inventory.ts';
import type { LoggedEvent } from '../sim/log.ts';
import type { ResetMethodChoice, ResetReport } from '../vfio/reset-device.ts';
import { INVENTORY_SCHEMA_VERSION } from './json.ts';
import { kernelLogLines } from './kernel-log.ts';
import { formatProblem, formatRef } from './problems.ts';

export interface ResetRun {
  report: ResetReport;
  origin: string;
  /** Duration of the whole operation: virtual ms on the simulator. */
  durationMs: number;
  clock: 'virtual' | 'wall';
  /** Kernel log lines and events emitted during the reset (simulator). */
  events: LoggedEvent[];
}

const WHAT = {
  'function-reset': 'function reset',
  'hot-reset': 'hot reset',
  'pm-reset': 'PM reset (last resort)',
} as const;

export function renderResetText(run: ResetRun): string {
  const r = run.report;
  const L: string[] = [];
  const ms = `${run.durationMs.toFixed(1)} ms${run.clock === 'virtual' ? ' (virtual time)' : ''}`;
  if (r.ok && r.performed) L.push(`${r.bdf}: ${WHAT[r.performed]} done in ${ms} on ${run.origin}`);
  else
    L.push(
      `${r.bdf}: ${r.requested === 'auto' ? 'reset' : `${r.requested} reset`} refused on ${run.origin}: ${r.error?.message ?? 'no reset method worked'}`,
    );
  if (r.timing && r.ok) {
    const t = r.timing;
    L.push(
      `  time: reset ${t.resetMs.toFixed(1)} ms; opening ${t.openMs.toFixed(1)} ms and closing ${t.closeMs.toFixed(1)} ms (the kernel resets at first open and last close)`,
    );
  }
  if (r.error && !r.ok) {
    L.push(
      `  code ${r.error.code}${r.error.errno ? `, errno ${r.error.errno}` : ''}${r.error.rule ? ` (kernel rule ${r.error.rule})` : ''}`,
    );
  }
  for (const s of r.steps)
    L.push(`  qemu policy: ${s.action} ${s.outcome} — ${s.why}${s.error ? `: ${s.error}` : ''}`);
  if (r.affected.length > 0) {
    L.push('  affected');
    for (const a of r.affected) L.push(`    ${a.bdf}  group ${a.group ?? '-'}  ${a.driver ?? 'no driver'}`);
  }
  const logLines = kernelLogLines(run.events);
  if (logLines.length > 0) {
    L.push('  kernel log');
    for (const line of logLines) L.push(`    ${line}`);
  }
  return `${L.join('\n')}\n`;
}

export function resetDocument(run: ResetRun) {
  return {
    schemaVersion: INVENTORY_SCHEMA_VERSION,
    command: 'reset',
    origin: run.origin,
    ...run.report,
    durationMs: run.durationMs,
    clock: run.clock,
    events: run.events,
  };
}

/** The dry run: what `reset --yes` would do, from the inventory alone (nothing is opened). */
export function renderResetPlan(inv: Inventory, f: InventoryFunction, method: ResetMethodChoice): string {
  const L = [`dry run on ${inv.origin}: nothing was opened or reset. With --yes, vfio-reset would:`];
  L.push(`  open ${f.bdf} through /dev/vfio/${f.group ?? '?'} (group mode, type1v2 container)`);
  const fr = f.functionReset;
  const fn = fr.ok
    ? `VFIO_DEVICE_RESET (the kernel would use ${fr.method}${fr.via ? ` via the ${fr.via} path` : ''})`
    : `VFIO_DEVICE_RESET, which would fail: ${fr.errno ?? 'no method'}`;
  const h = f.hotReset;
  const hot = h
    ? `VFIO_DEVICE_PCI_HOT_RESET: ${h.kind} ${h.target} below ${h.bridge}, resetting ${h.affected.map(formatRef).join(', ')}; group fds ${h.groups.join(', ')}`
    : 'no hot reset is possible (ENODEV)';
  if (method === 'function') L.push(`  ${fn}`);
  else if (method === 'hot') L.push(`  ${hot}`);
  else L.push(`  follow QEMU's policy: ${fn}; if that is not used or fails, ${hot}`);
  // VFIO_DEVICE_RESET needs only the device itself; the reset domain's blockers stop a hot reset.
  const blockers = (method === 'function' ? f.problems : problemsOf(f)).filter(
    (p) => p.severity === 'blocker',
  );
  if (blockers.length > 0) {
    L.push('  but these would stop it:');
    for (const p of blockers) L.push(`    ✗ ${formatProblem(p)}`);
  }
  return `${L.join('\n')}\n`;
}
