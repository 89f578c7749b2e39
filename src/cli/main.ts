#!/usr/bin/env node
/** Entry point of the `vfio-reset` command; everything else is in program.ts so tests can run it in-process. */
import { main } from './program.ts';

// `vfio-reset scan --json | head`: the reader went away. Stop quietly as a tool killed by SIGPIPE
// would (status 128 + 13, like git), not with an unhandled 'error' event and a stack trace.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(141);
  });

process.exitCode = await main(process.argv.slice(2));
