/** What `restore` does: puts back the drivers a `bind --yes` recorded. Dry run unless --yes. */
import { readFileSync } from 'node:fs';
import { writeSysfsDump } from '../../host/dump.ts';
import { executeRestore } from '../../plan/bind.ts';
import { parseRestoreRecord } from '../../plan/restore-record.ts';
import { renderRestoreText, restoreDocument } from '../../render/bind.ts';
import type { ActOptions } from '../commands/bind.ts';
import type { Globals } from '../context.ts';
import { CommandError } from '../errors.ts';
import { hostInputs, kernelToChange, refusalText } from '../host-inputs.ts';
import { json, out } from '../io.ts';
import { progressOnStderr } from '../progress.ts';

function readRecordFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CommandError(
      'VFIO_RESET_E_NO_RECORD',
      `cannot read restore record ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; give the file 'vfio-reset bind --yes' wrote with --record`,
    );
  }
}

export async function restore(g: Globals, o: ActOptions): Promise<number> {
  const record = parseRestoreRecord(readRecordFile(o.record), o.record);
  const h = await hostInputs(g);
  const have = new Set(h.inv.functions.map((f) => f.bdf));
  const missing = record.devices.filter((d) => !have.has(d.bdf));
  if (missing.length > 0)
    throw new CommandError(
      'VFIO_RESET_E_NO_DEVICE',
      `${o.record} names ${missing.map((d) => d.bdf).join(', ')}, not on host ${h.inv.host} (${h.opened.origin}); it was written on ${record.origin}`,
    );
  const show = (steps: Parameters<typeof renderRestoreText>[1]) => {
    if (g.json) json(restoreDocument(record, steps, h.opened.origin, o.record));
    else out(renderRestoreText(record, steps, h.opened.origin, o.record));
  };
  if (!o.yes) {
    show(null);
    return 0;
  }
  const safety = [...new Set(record.devices.flatMap((d) => h.safety(d.bdf).map(refusalText)))];
  if (safety.length > 0) throw new CommandError('VFIO_RESET_E_UNSAFE', safety.join('; '));
  const host = kernelToChange(h, o.save);
  const steps = executeRestore(host, record.devices, progressOnStderr('restore'));
  if (o.save && h.opened.sim) writeSysfsDump(h.opened.sim.sysfs, o.save);
  show(steps);
  return steps.every((s) => s.outcome !== 'failed') ? 0 : 1;
}
