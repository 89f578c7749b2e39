/** `reset <bdf>`: a reset through VFIO. Nothing happens without --yes: the default is the dry-run plan. */
import { Option } from '@commander-js/extra-typings';
import type { ResetMethodChoice, SessionMode } from '../../vfio/reset-device.ts';
import type { RegisterCommand } from '../context.ts';

export interface ResetOptions {
  method: ResetMethodChoice;
  yes: boolean;
  mode: SessionMode;
  expect?: string | undefined;
}

export const registerReset: RegisterCommand = (p, ctx) => {
  p.command('reset')
    .description('reset one function through VFIO (dry run unless --yes)')
    .argument('<bdf>', 'function address')
    .addOption(
      new Option('--method <method>', 'function: VFIO_DEVICE_RESET; hot: bus/slot reset; auto: QEMU’s policy')
        .choices(['function', 'hot', 'auto'] as const)
        .default('auto' as const),
    )
    .addOption(
      new Option(
        '--mode <mode>',
        'group: container + group fds; cdev: iommufd + empty fd array (6.6+); auto: cdev when the kernel offers it',
      )
        .choices(['auto', 'group', 'cdev'] as const)
        .default('auto' as const),
    )
    .option('--yes', 'really do it', false)
    .option(
      '--expect <vendor:device>',
      'refuse unless the function at <bdf> is this device (hex ids, e.g. 10de:2684)',
    )
    .action(
      ctx.act('reset', async (bdf: string, o: ResetOptions) =>
        (await import('../actions/reset.ts')).reset(ctx.globals(), bdf, o),
      ),
    );
};
