/** `demo`: what `npm start` runs. */
import type { RegisterCommand } from '../context.ts';

export const registerDemo: RegisterCommand = (p, ctx) => {
  p.command('demo')
    .description('what `npm start` runs: scan, info and simulated resets on the bundled workstation')
    .action(ctx.act('demo', async () => (await import('../actions/demo.ts')).demo(ctx.globals())));
};
