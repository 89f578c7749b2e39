/**
 * `npm run docs:conformance`: regenerates docs/conformance.md from the last rig run in
 * `.rig/results/` (no guest is booted), and prints the totals.
 *
 *   node --import tsx src/rig/report-main.ts [--results DIR] [--out FILE]
 * @module
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatherReport } from './gather.ts';
import { renderConformanceReport, totals } from './report.ts';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function writeConformanceReport(resultsDir: string, out: string): ReturnType<typeof totals> {
  const input = gatherReport(REPO, resultsDir);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${renderConformanceReport(input)}\n`);
  return totals(input);
}

function main(argv: string[]): number {
  let results = join(REPO, '.rig/results');
  let out = join(REPO, 'docs/conformance.md');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--results') results = resolve(argv[++i] ?? '');
    else if (argv[i] === '--out') out = resolve(argv[++i] ?? '');
    else {
      console.error(`docs:conformance: unknown argument ${argv[i]} (use --results DIR  --out FILE)`);
      return 2;
    }
  }
  try {
    const t = writeConformanceReport(results, out);
    console.log(
      `wrote ${out}: ${t.steps} steps compared, ${t.agreeing} agree, ${t.disagreeing} disagree, ${t.uncompared} scenario runs not compared (${t.scenarios} runs)`,
    );
    return t.disagreeing === 0 && t.uncompared === 0 ? 0 : 1;
  } catch (e) {
    console.error(`docs:conformance: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main(process.argv.slice(2));
