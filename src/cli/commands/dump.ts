/** `dump -o dir`: the sysfs files vfio-reset reads, written out (capture a host or a simulated one). */
import type { RegisterCommand } from '../context.ts';

export const registerDump: RegisterCommand = (p, ctx) => {
  p.command('dump')
    .description(
      'write the sysfs files vfio-reset reads into a directory (capture a host, or a simulated one)',
    )
    .requiredOption('-o, --output <dir>', 'new or empty directory')
    .action(
      ctx.act('dump', async (o: { output: string }) =>
        (await import('../actions/dump.ts')).dump(ctx.globals(), o.output),
      ),
    );
};
