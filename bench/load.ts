/** Topology load + IOMMU groups per size, each in a fresh child process (see load-child.ts). */

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { LoadResult } from './load-child.ts';

export type { LoadResult } from './load-child.ts';

/** Bundled by `npm run bench` (bench/launch.mjs), the child is load-child.mjs beside this module; under tsx, the .ts. */
function childArgs(): string[] {
  return import.meta.url.endsWith('.mjs')
    ? [join(import.meta.dirname, 'load-child.mjs')]
    : ['--import', 'tsx', join(import.meta.dirname, 'load-child.ts')];
}

export function loadInChild(topologyFile: string): LoadResult {
  const r = spawnSync(process.execPath, [...childArgs(), topologyFile], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0)
    throw new Error(`load of ${topologyFile} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as LoadResult;
}
