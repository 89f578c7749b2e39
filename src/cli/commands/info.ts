/** `info <bdf>`: one function's reset methods, hot-reset scope, problems and what must be owned. */
import type { RegisterCommand } from '../context.ts';

export const registerInfo: RegisterCommand = (p, ctx) => {
  p.command('info')
    .description('reset methods, hot-reset scope, problems and what must be owned, for one function')
    .argument('<bdf>', 'function address, e.g. 0000:01:00.0 or 01:00.0')
    .action(
      ctx.act('info', async (bdf: string) => (await import('../actions/info.ts')).info(ctx.globals(), bdf)),
    );
};
