/** `plan <bdf>...`: "I want to give these devices to one VM" — groups, QEMU's resets, verdicts, warnings; `--what-if` runs it on a simulated copy. */
import { Option } from '@commander-js/extra-typings';
import { buildPlan } from '../../plan/plan.ts';
import { simulatedTiming } from '../../plan/timing.ts';
import { runWhatIf } from '../../plan/what-if.ts';
import { planDocument, renderPlanText } from '../../render/plan.ts';
import type { SessionMode } from '../../vfio/reset-device.ts';
import { type Globals, json, out, type RegisterCommand } from '../context.ts';
import { hostInputs, requestedBdfs } from '../host-inputs.ts';
import { nameKeys, namerOf } from '../names.ts';
import { progressOnStderr } from '../progress.ts';

function plan(g: Globals, args: string[], whatIf: boolean, mode: SessionMode): number {
  const h = hostInputs(g);
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

export const registerPlan: RegisterCommand = (p, ctx) => {
  p.command('plan')
    .description(
      'before giving devices to one VM: the groups to bind, how QEMU would reset each device, what else a reset hits',
    )
    .argument('<bdf...>', 'the devices for the VM, e.g. 01:00.0 01:00.1')
    .option(
      '--what-if',
      'run the plan on a simulated copy of this host (bind, open, QEMU’s resets) and show what happens',
      false,
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'for --what-if: group, cdev (6.6+), or auto (cdev when the kernel offers it)',
      )
        .choices(['auto', 'group', 'cdev'] as const)
        .default('auto' as const),
    )
    .action(
      ctx.act('plan', (bdfs: string[], o: { whatIf: boolean; mode: SessionMode }) =>
        plan(ctx.globals(), bdfs, o.whatIf, o.mode),
      ),
    );
};
