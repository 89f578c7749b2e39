/**
 * `serve [--port N]`: the local page — the topology picture of the chosen host; a click shows a
 * function's `info` and highlights what a hot reset would hit; on a simulated host a button runs
 * the reset and shows the kernel's log. Binds 127.0.0.1 only and runs until interrupted.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { errorDocument } from '../../render/json.ts';
import type { ServedHost } from '../../serve/api.ts';
import { createServeServer, DEFAULT_PORT, listenLocal } from '../../serve/server.ts';
import {
  err,
  type Globals,
  inventoryOf,
  json,
  openGlobalHost,
  out,
  type RegisterCommand,
} from '../context.ts';
import { toFailure } from '../errors.ts';

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535)
    throw new InvalidArgumentError('a TCP port from 1 to 65535, or 0 for a free one');
  return n;
}

function serve(g: Globals, port: number): number {
  const opened = openGlobalHost(g);
  const host: ServedHost = {
    origin: opened.origin,
    era: g.era,
    inventory: () => inventoryOf(g, opened),
    sim: opened.sim,
  };
  host.inventory(); // a host that cannot be read fails here, once, before anything listens
  const server = createServeServer(host);
  listenLocal(server, port).then(
    (url) => {
      if (g.json) json({ schemaVersion: 1, command: 'serve', ok: true, url, origin: opened.origin });
      else
        out(
          `vfio-reset: serving ${opened.origin} at ${url}${opened.sim ? '' : ' (read only: the page never resets a real device)'} — Ctrl-C stops it\n`,
        );
    },
    (e: unknown) => {
      const f = toFailure(e);
      if (g.json) json(errorDocument('serve', f.code, f.message));
      else err(`vfio-reset: ${f.message}\n`);
      process.exitCode = 1;
    },
  );
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}

export const registerServe: RegisterCommand = (p, ctx) => {
  p.command('serve')
    .description(
      'a local web page (127.0.0.1) with the topology picture, info on click, and simulated resets',
    )
    .option('--port <n>', `TCP port on 127.0.0.1 (0: a free one, printed)`, parsePort, DEFAULT_PORT)
    .action(ctx.act('serve', (o: { port: number }) => serve(ctx.globals(), o.port)));
};
