/** What `plan` does: groups, QEMU's resets, verdicts and warnings for the devices of one VM; `--what-if` runs it on a simulated copy. */
import { buildPlan } from '../../plan/plan.ts';
import { simulatedTiming } from '../../plan/timing.ts';
import { runWhatIf } from '../../plan/what-if.ts';
import { planDocument, renderPlanText } from '../../render/plan.ts';
import type { PlanOptions } from '../commands/plan.ts';
import type { Globals } from '../context.ts';
import { hostInputs, requestedBdfs } from '../host-inputs.ts';
import { json, out } from '../io.ts';
import { nameKeys, namerOf } from '../names.ts';
import { progressOnStderr } from '../progress.ts';

export async function plan(g: Globals, args: string[], { whatIf, mode }: PlanOptions): Promise<number> {
  const h = await hostInputs(g);
  const requested = requestedBdfs(h.inv, args);
  const p = buildPlan({
    inventory: h.inv,
    requested,
    capabilities: h.capabilities,
    hostUse: h.hostUse,
    predict: simulatedTiming(h.read.desc, g.era),
  });
  const w = whatIf
    ? runWhatIf(h.read.desc, g.era, p, {
        mode,
        origin: h.opened.origin,
        progress: progressOnStderr('what-if'),
      })
    : null;
  if (g.json) json(planDocument(p, w));
  else out(renderPlanText(p, namerOf(g), nameKeys(h.inv), w));
  return 0;
}
