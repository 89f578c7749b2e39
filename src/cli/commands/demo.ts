/** `demo`: what `npm start` runs. */

import { out, type RegisterCommand } from '../context.ts';
import { runDemo } from '../demo.ts';
import { UsageError } from '../errors.ts';

export const registerDemo: RegisterCommand = (p, ctx) => {
  p.command('demo')
    .description('what `npm start` runs: scan, info and simulated resets on the bundled workstation')
    .action(
      ctx.act('demo', () => {
        // A walk-through for people: with --json it would break the one-document rule.
        if (ctx.globals().json)
          throw new UsageError(
            'demo is a walk-through for people and has no JSON form; use scan, info, plan or reset with --json',
          );
        return runDemo(out);
      }),
    );
};
