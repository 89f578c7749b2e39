/**
 * `npm run bench`: every measurement of issue 9 in one run, printed as docs/performance.md would
 * show it; `--write-docs` also writes that file (`npm run docs:performance`). `--quick` runs the
 * small sizes only with fewer rounds (for development; it refuses --write-docs). Progress goes to
 * stderr. Benchmarks are never part of `npm test`.
 * @module
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBenchData, ROOT, SIZES, topologyPath } from './data.ts';
import { durationTable } from './durations.ts';
import { compareIoctlWithC } from './ioctl-c.ts';
import { loadInChild } from './load.ts';
import { machineFacts } from './machine.ts';
import { type BenchResults, renderPerformanceDoc } from './report.ts';
import { compareWithLspci, ensureLspci, inProcessScans } from './scan.ts';
import { ioctlRates, QUERY_SIZES, simQueries } from './sim-queries.ts';

const USAGE = 'usage: npm run bench [-- --write-docs | --quick]';

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--write-docs' && a !== '--quick');
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  const writeDocs = argv.includes('--write-docs');
  const quick = argv.includes('--quick');
  if (quick && writeDocs) {
    process.stderr.write('bench: --quick measures too little for docs/performance.md; drop one of them\n');
    return 2;
  }
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  const step = async <T>(what: string, f: () => T | Promise<T>): Promise<T> => {
    log(`${what}…`);
    const t = performance.now();
    const v = await f();
    log(`${what}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return v;
  };
  const sizes = quick ? SIZES.filter((s) => s <= 4096) : SIZES;
  const querySizes = quick ? QUERY_SIZES.filter((s) => s <= 10_000) : QUERY_SIZES;

  await step('generating inputs in .bench/', () => ensureBenchData(log));
  const lspciReady = ensureLspci(log);
  if (!lspciReady.ok) log(`skipping scan vs lspci: ${lspciReady.why}`);
  const results: BenchResults = {
    machine: machineFacts(),
    lspci: lspciReady.ok
      ? {
          ok: true,
          value: await step('scan vs lspci (4,096 functions)', () => compareWithLspci(4096, quick ? 3 : 7)),
        }
      : lspciReady,
    scans: await step('scan in-process per size', () => inProcessScans(quick ? 2 : 5, sizes)),
    loads: [],
    queries: [],
    ioctls: await step('simulated ioctls per second', () => ioctlRates()),
    ioctlC: await step('ioctl: koffi vs C', () => compareIoctlWithC(quick ? 50_000 : 200_000, quick ? 3 : 9)),
    durations: await step('reset durations: simulator vs rig', () => durationTable()),
  };
  for (const n of sizes)
    for (const format of ['yaml', 'json'] as const)
      results.loads.push(
        await step(`topology load, ${n} functions, ${format}`, () => loadInChild(topologyPath(n, format))),
      );
  for (const n of querySizes)
    results.queries.push(await step(`hot-reset queries, ${n} functions`, () => simQueries(n)));
  if (!results.ioctlC.ok) log(`skipping ioctl vs C: ${results.ioctlC.why}`);
  if (!results.durations.ok) log(`skipping the durations table: ${results.durations.why}`);

  const doc = renderPerformanceDoc(results);
  process.stdout.write(doc);
  if (writeDocs) {
    const path = join(ROOT, 'docs/performance.md');
    writeFileSync(path, doc);
    log(`wrote ${path}`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
