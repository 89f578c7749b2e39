/**
 * A hot-reset INFO answer as text: in cdev mode (6.6+) the flags and, per affected function, its
 * dev_id, OWNED (0: not bound here, but its IOMMU group has a device bound to this context) or
 * NOT_OWNED (-1), with driver and group; in group mode the group id per function.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import {
  type HotResetInfoResult,
  hotResetFlagNames,
  isNotOwned,
  isOwnedThroughGroup,
} from '../vfio/ioctls.ts';

function idText(info: HotResetInfoResult, id: number): string {
  if (!info.devIdMode) return `group ${id}`;
  if (isNotOwned(id)) return 'NOT_OWNED';
  if (isOwnedThroughGroup(id)) return 'OWNED (through its IOMMU group)';
  return `devid ${id}`;
}

export function flagsText(flags: number): string {
  const names = hotResetFlagNames(flags);
  return names.length > 0 ? names.join('|') : '0';
}

/** One line per affected function: BDF, id, driver, group (`refs` by BDF, from sysfs). */
export function renderHotResetInfo(info: HotResetInfoResult, refs: readonly DeviceRef[]): string[] {
  const byBdf = new Map(refs.map((r) => [r.bdf, r]));
  const head = `flags ${flagsText(info.flags)}${info.devIdMode && !info.allOwned ? ' (DEV_ID_OWNED clear: something in scope is not owned)' : ''}, ${info.entries.length} function(s) in scope`;
  const rows = info.entries.map((e) => {
    const r = byBdf.get(e.bdf);
    const mark = info.devIdMode && isNotOwned(e.id) ? '✗' : ' ';
    return `${mark} ${e.bdf}  ${idText(info, e.id).padEnd(32)} driver ${r?.driver ?? 'none'}, group ${r?.group ?? 'none'}`;
  });
  return [head, ...rows];
}
