/**
 * `bind <bdf>...`: the devices' whole IOMMU groups to vfio-pci, with a restore record of the
 * original drivers (dry run unless --yes). Its options, and the record's default name, are
 * `restore`'s too.
 */
import type { RegisterCommand } from '../context.ts';

export const DEFAULT_RECORD = 'vfio-reset-restore.json';

export interface ActOptions {
  yes: boolean;
  record: string;
  save?: string;
}

export const registerBind: RegisterCommand = (p, ctx) => {
  p.command('bind')
    .description(
      'bind the devices’ whole IOMMU groups to vfio-pci, recording the original drivers (dry run unless --yes)',
    )
    .argument('<bdf...>', 'the devices to hand to VFIO')
    .option('--yes', 'really do it', false)
    .option('--record <file>', 'restore record to write (never overwritten)', DEFAULT_RECORD)
    .option('--save <dir>', 'simulated host: write it, after binding, as a sysfs dump (new directory)')
    .action(
      ctx.act('bind', async (bdfs: string[], o: ActOptions) =>
        (await import('../actions/bind.ts')).bind(ctx.globals(), bdfs, o),
      ),
    );
};
