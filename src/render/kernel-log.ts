/**
 * Kernel log events as dmesg prints them (`[    12.345678] pcieport 0000:00:01.0: text`), plus
 * the hot-remove/add events a reset can cause, for the reset and recovery views.
 * @module
 */

import type { LoggedEvent } from '../sim/log.ts';

export function kernelLogLines(events: readonly LoggedEvent[]): string[] {
  return events.flatMap(({ atMs, event }) => {
    const t = `[${(atMs / 1000).toFixed(6).padStart(12)}]`;
    if (event.kind === 'log')
      return [`${t} ${event.device ? `${event.driver ?? 'pci'} ${event.device}: ` : ''}${event.text}`];
    if (event.kind === 'hot-remove' || event.kind === 'hot-add')
      return [`${t} (${event.kind} ${event.device})`];
    return [];
  });
}
