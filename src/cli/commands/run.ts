/** `run <scenario>`: a scenario file step by step against the simulated kernel. */
import type { RegisterCommand } from '../context.ts';

export const registerRun: RegisterCommand = (p, ctx) => {
  p.command('run')
    .description('run a scenario file step by step against the simulated kernel')
    .argument('<scenario>', 'scenario YAML file')
    .action(
      ctx.act('run', async (file: string) =>
        (await import('../actions/run.ts')).run(ctx.globals(), file, ctx.hostGiven()),
      ),
    );
};
