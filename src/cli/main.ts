#!/usr/bin/env node
/** Entry point of the `vfio-reset` command; everything else is in program.ts so tests can run it in-process. */
import { main } from './program.ts';

process.exitCode = await main(process.argv.slice(2));
