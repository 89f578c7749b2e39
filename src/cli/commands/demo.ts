/** `demo`: what `npm start` runs. */

import { out, type RegisterCommand } from '../context.ts';
import { runDemo } from '../demo.ts';

export const registerDemo: RegisterCommand = (p, ctx) => {
  p.command('demo')
    .description('what `npm start` runs: scan, info and simulated resets on the bundled workstation')
    .action(ctx.act('demo', () => runDemo(out)));
};
