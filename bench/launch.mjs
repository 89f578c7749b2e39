#!/usr/bin/env node
// `npm run bench`: bundles the benchmark with esbuild into .bench/ and runs it with plain Node, so
// it measures the JavaScript that ships (tsc/esbuild output), not code under the TypeScript loader
// (tsx wraps every closure to keep its name, which costs time on hot paths). Arguments pass through.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
await build({
  entryPoints: { run: join(root, 'bench/run.ts'), 'load-child': join(root, 'bench/load-child.ts') },
  outdir: join(root, '.bench'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'error',
});
const r = spawnSync(process.execPath, [join(root, '.bench/run.mjs'), ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
