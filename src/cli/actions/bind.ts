/**
 * What `bind` does: the devices' whole IOMMU groups to vfio-pci, with a restore record of the
 * original drivers. Dry run unless --yes; a group holding a device the host uses is refused
 * unless that device is named too. On a real host, `linux/safety.ts` must also say yes.
 */
import { existsSync } from 'node:fs';
import { writeSysfsDump } from '../../host/dump.ts';
import { executeBind } from '../../plan/bind.ts';
import { planBind } from '../../plan/bind-plan.ts';
import { restoreRecord } from '../../plan/restore-record.ts';
import { bindDocument, renderBindText } from '../../render/bind.ts';
import type { ActOptions } from '../commands/bind.ts';
import { type Globals, writeNewFile } from '../context.ts';
import { CommandError } from '../errors.ts';
import { hostInputs, kernelToChange, refusalText, requestedBdfs } from '../host-inputs.ts';
import { err, json, out } from '../io.ts';
import { nameKeys, namerOf } from '../names.ts';
import { progressOnStderr } from '../progress.ts';

export async function bind(g: Globals, args: string[], o: ActOptions): Promise<number> {
  const h = await hostInputs(g);
  const requested = requestedBdfs(h.inv, args);
  const plan = planBind(h.inv, requested, h.hostUse);
  const toBind = plan.groups.flatMap((gr) => gr.members.filter((m) => m.action === 'bind').map((m) => m.bdf));
  const safety = [...new Set(toBind.flatMap((b) => h.safety(b).map(refusalText)))];
  const refused = plan.refusals.length > 0 || safety.length > 0;
  const ctxFor = (dryRun: boolean) => ({ origin: h.opened.origin, dryRun, safety, record: o.record });
  const show = (run: Parameters<typeof renderBindText>[1], dryRun: boolean) => {
    if (g.json) json(bindDocument(plan, run, ctxFor(dryRun)));
    else out(renderBindText(plan, run, ctxFor(dryRun), namerOf(g), nameKeys(h.inv)));
  };
  if (!o.yes || refused) {
    show(null, !o.yes);
    return refused ? 1 : 0;
  }
  if (existsSync(o.record))
    throw new CommandError(
      'VFIO_RESET_E_OUTPUT',
      `${o.record} already exists: it may hold the drivers of an earlier bind; restore from it first, or choose another --record`,
    );
  const host = kernelToChange(h, o.save);
  const run = executeBind(host, plan, progressOnStderr('bind'));
  writeNewFile(
    o.record,
    `${JSON.stringify(restoreRecord(h.inv.host, h.opened.origin, new Date().toISOString(), run.restore), null, 2)}\n`,
  );
  if (o.save && h.opened.sim) writeSysfsDump(h.opened.sim.sysfs, o.save);
  show(run, false);
  if (h.opened.sim && !o.save && !g.json)
    err(
      'note: a simulated host lives only for this run; --save <dir> keeps the result as a dump for --host sim:<dir>\n',
    );
  return run.ok ? 0 : 1;
}
