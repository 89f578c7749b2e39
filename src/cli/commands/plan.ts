/** `plan <bdf>...`: "I want to give these devices to one VM" — groups, QEMU's resets, verdicts, warnings; `--what-if` runs it on a simulated copy. */
import { Option } from '@commander-js/extra-typings';
import type { SessionMode } from '../../vfio/reset-device.ts';
import type { RegisterCommand } from '../context.ts';

export interface PlanOptions {
  whatIf: boolean;
  mode: SessionMode;
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
      ctx.act('plan', async (bdfs: string[], o: PlanOptions) =>
        (await import('../actions/plan.ts')).plan(ctx.globals(), bdfs, o),
      ),
    );
};
