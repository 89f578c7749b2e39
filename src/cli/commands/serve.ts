/**
 * `serve [--port N]`: the local page — the topology picture of the chosen host, `info` on a click
 * and, on a simulated host, resets. Binds 127.0.0.1 only and runs until interrupted.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import type { RegisterCommand } from '../context.ts';

export const DEFAULT_PORT = 8417;

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535)
    throw new InvalidArgumentError('a TCP port from 1 to 65535, or 0 for a free one');
  return n;
}

export const registerServe: RegisterCommand = (p, ctx) => {
  p.command('serve')
    .description(
      'a local web page (127.0.0.1) with the topology picture, info on click, and simulated resets',
    )
    .option('--port <n>', `TCP port on 127.0.0.1 (0: a free one, printed)`, parsePort, DEFAULT_PORT)
    .action(
      ctx.act('serve', async (o: { port: number }) =>
        (await import('../actions/serve.ts')).serve(ctx.globals(), o.port),
      ),
    );
};
