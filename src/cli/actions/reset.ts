/** What `reset` does: a reset through VFIO, or without --yes the dry-run plan of it. */
import { performance } from 'node:perf_hooks';
import { openLinuxHost } from '../../linux/host.ts';
import { checkDestructive, UnsafeOperationError } from '../../linux/safety.ts';
import { functionParts, INVENTORY_SCHEMA_VERSION } from '../../render/json.ts';
import { type ResetRun, renderResetPlan, renderResetText, resetDocument } from '../../render/reset.ts';
import { resetDevice } from '../../vfio/reset-device.ts';
import type { ResetOptions } from '../commands/reset.ts';
import { findFunction, type Globals, inventoryOf, openGlobalHost } from '../context.ts';
import { CommandError, UsageError } from '../errors.ts';
import { json, out } from '../io.ts';
import { simResetRun } from '../sim-reset.ts';

/** `vvvv:dddd` (hex, `0x` optional) → `vvvv:dddd`, or null when it is not one. */
function parseId(text: string): string | null {
  const m = /^(?:0x)?([0-9a-f]{1,4}):(?:0x)?([0-9a-f]{1,4})$/i.exec(text.trim());
  return m ? `${m[1]!.toLowerCase().padStart(4, '0')}:${m[2]!.toLowerCase().padStart(4, '0')}` : null;
}

export async function reset(
  g: Globals,
  bdfText: string,
  { method, yes, mode, expect }: ResetOptions,
): Promise<number> {
  const opened = await openGlobalHost(g);
  const inv = inventoryOf(g, opened);
  const f = findFunction(inv, bdfText);
  if (expect !== undefined) {
    // The device the user means may not be at that address any more (slots, firmware, a new card).
    const want = parseId(expect);
    if (want === null)
      throw new UsageError(`--expect '${expect}' is not a vendor:device id such as 10de:2684`);
    const hex = (n: number) => n.toString(16).padStart(4, '0');
    const found = `${hex(f.vendor)}:${hex(f.device)}`;
    if (found !== want)
      throw new CommandError(
        'VFIO_RESET_E_UNSAFE',
        `${f.bdf} is ${found}, not the ${want} you named (--expect): check the address; nothing was opened or reset`,
      );
  }
  if (!yes) {
    if (g.json)
      json({
        schemaVersion: INVENTORY_SCHEMA_VERSION,
        command: 'reset',
        ok: true,
        dryRun: true,
        bdf: f.bdf,
        method,
        ...functionParts(f),
      });
    else out(renderResetPlan(inv, f, method));
    return 0;
  }
  let run: ResetRun;
  if (opened.sim) {
    run = simResetRun(opened.sim, opened.origin, f.bdf, method, mode);
  } else {
    // A real host: refuse unless the IOMMU is on, the device is where the user said, and nothing the
    // host needs (mounted storage, the boot GPU, the default route) shares its group or reset scope.
    const root = opened.spec.kind === 'linux' ? opened.spec.root : '/sys';
    const refusals = checkDestructive(root, '/proc', f.bdf, expect === undefined ? {} : { expectId: expect });
    if (refusals.length > 0) throw new UnsafeOperationError(refusals);
    const host = openLinuxHost(root);
    const t0 = performance.now();
    const report = resetDevice(host, f.bdf, method, () => performance.now(), mode);
    run = { report, origin: opened.origin, durationMs: performance.now() - t0, clock: 'wall', events: [] };
  }
  if (g.json) json(resetDocument(run));
  else out(renderResetText(run));
  return run.report.ok ? 0 : 1;
}
