/** `restore`: puts back the drivers a `bind --yes` recorded. Dry run unless --yes. */
import type { RegisterCommand } from '../context.ts';
import { type ActOptions, DEFAULT_RECORD } from './bind.ts';

export const registerRestore: RegisterCommand = (p, ctx) => {
  p.command('restore')
    .description('put back the drivers a `bind --yes` recorded (dry run unless --yes)')
    .option('--yes', 'really do it', false)
    .option('--record <file>', 'the restore record bind wrote', DEFAULT_RECORD)
    .option('--save <dir>', 'simulated host: write it, after restoring, as a sysfs dump (new directory)')
    .action(
      ctx.act('restore', async (o: ActOptions) =>
        (await import('../actions/restore.ts')).restore(ctx.globals(), o),
      ),
    );
};
