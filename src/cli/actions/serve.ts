/**
 * What `serve` does: the local page — the topology picture of the chosen host; a click shows a
 * function's `info` and highlights what a hot reset would hit; on a simulated host a button runs
 * the reset and shows the kernel's log. Binds 127.0.0.1 only and runs until interrupted.
 */
import { errorDocument } from '../../render/json.ts';
import type { ServedHost } from '../../serve/api.ts';
import { createServeServer, listenLocal } from '../../serve/server.ts';
import { type Globals, inventoryOf, openGlobalHost } from '../context.ts';
import { toFailure } from '../errors.ts';
import { err, json, out } from '../io.ts';

export async function serve(g: Globals, port: number): Promise<number> {
  const opened = await openGlobalHost(g);
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
