/** `snapshot -o file`: the host as a topology file, and where the simulator disagrees with its sysfs. */
import type { RegisterCommand } from '../context.ts';

export const registerSnapshot: RegisterCommand = (p, ctx) => {
  p.command('snapshot')
    .description(
      'capture the host as a topology file the simulator loads, and report where the simulation differs',
    )
    .requiredOption('-o, --output <file>', 'new topology file (YAML)')
    .action(
      ctx.act('snapshot', async (o: { output: string }) =>
        (await import('../actions/snapshot.ts')).snapshot(ctx.globals(), o.output),
      ),
    );
};
