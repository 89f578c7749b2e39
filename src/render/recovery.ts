/**
 * The client's error recovery and release answer as text (vfio/recovery.ts, vfio/release.ts).
 * @module
 */

import { formatBarChange, type RecoveryReport } from '../vfio/recovery.ts';
import type { ReleaseAnswer } from '../vfio/release.ts';

export function renderRecovery(r: RecoveryReport): string[] {
  const L = [`${r.bdf}: ${r.events} error event(s) read from the ERR eventfd`];
  for (const a of r.attempts) L.push(`  ${a.reset}: ${a.error === null ? 'done' : `failed — ${a.error}`}`);
  if (r.reset === null) {
    L.push('  not recovered: no reset worked; the device stays in error (config reads all-ones)');
    return L;
  }
  L.push(
    `  after the reset: config space ${r.answering === null ? 'not readable here' : r.answering ? 'answers again' : 'still reads all-ones'}`,
  );
  if (r.barChanges.length === 0) L.push('  BAR sizes re-read: unchanged');
  else
    L.push(
      `  BAR sizes re-read: ${r.barChanges.map(formatBarChange).join(', ')} — the device came back different; remap before use`,
    );
  return L;
}

export function renderReleaseAnswer(a: ReleaseAnswer): string {
  return `${a.bdf}: the host asked for the device back (${a.requests} request(s)); closed it, the unbind went through`;
}
