/**
 * One fuzz run, in its own process so the test can time-box it (a hang is killed, and the last case
 * it started names the input): `node --import tsx test/reliability/fuzz/run.ts <format> <seed> <count>`.
 *
 * Every case goes through the CLI the way a user meets the format — `--host sim:<topology> scan`,
 * `run <scenario>`, `import-lspci <dump> -o <file>`, `--host linux:<dump dir> scan` and
 * `--host sim:<dump dir> scan` — in text and in JSON mode, and must end in success or in one clear
 * error: exit 1, one line on stderr naming the file (with line:column for the text formats), a known
 * VFIO_RESET_E_* code in JSON, never an internal error, a stack trace, or a case slower than 3 s (a runaway: the slowest take ~0.15 s).
 *
 * Prints one JSON line per case started (`{"start":i}`), one per failure, and a final summary.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { main } from '../../../src/cli/program.ts';
import { type FileCase, type Format, fileCases, writeDump } from './inputs.ts';

/** A case slower than this is a failure (the formats are small; a slow one is a runaway). */
export const CASE_LIMIT_MS = 3000;

interface Outcome {
  argv: string[];
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** CLI runs that ended in an error (exit 1): the inputs the CLI refused, each with one clear line. */
let refused = 0;

async function cli(argv: string[]): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const t0 = performance.now();
  const code = await main(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  if (code === 1) refused++;
  return { argv, code, stdout, stderr, ms: performance.now() - t0 };
}

/** What is wrong with one CLI outcome, or null. `where` is what the error must name. */
function problem(o: Outcome, where: RegExp, json: boolean): string | null {
  if (o.ms > CASE_LIMIT_MS) return `took ${o.ms.toFixed(0)} ms`;
  if (o.code !== 0 && o.code !== 1) return `exit ${o.code}`;
  if (/\n\s+at /.test(o.stderr + o.stdout)) return 'a stack trace';
  if (/internal error|VFIO_RESET_E_INTERNAL/.test(o.stderr + o.stdout)) return 'an internal error';
  if (json) {
    let doc: { ok?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      doc = JSON.parse(o.stdout);
    } catch {
      // `run --json` prints one JSON line per step: each line must parse.
      if (
        !o.stdout
          .trim()
          .split('\n')
          .every((l) => isJson(l))
      )
        return 'stdout is not JSON';
      return null;
    }
    if (doc.ok === false && doc.error) {
      if (!/^VFIO_RESET_E_/.test(String(doc.error.code))) return `error code ${String(doc.error.code)}`;
      if (!where.test(String(doc.error.message)))
        return `the error does not say where: ${String(doc.error.message)}`;
    }
    return null;
  }
  if (o.code === 1 && o.stderr !== '') {
    // One error: its first line starts `vfio-reset: `; a file with several problems lists each on a
    // line of its own, every one located (and at most "… and N more").
    const lines = o.stderr.trimEnd().split('\n');
    if (!lines[0]!.startsWith('vfio-reset: ')) return `stderr does not start with the error: ${o.stderr}`;
    for (const l of lines) {
      if (/^… and \d+ more$/.test(l)) continue;
      if (!where.test(l)) return `a line of the error does not say where: ${l}`;
    }
  }
  return null;
}

function isJson(l: string): boolean {
  try {
    JSON.parse(l);
    return true;
  } catch {
    return false;
  }
}

/** The CLI calls one case makes, with what their errors must name. */
async function runCase(
  format: Format,
  c: FileCase,
  i: number,
  tmp: string,
): Promise<{ argv: string[]; why: string }[]> {
  const out: { argv: string[]; why: string }[] = [];
  const check = async (argv: string[], where: RegExp) => {
    for (const json of [false, true]) {
      const o = await cli(json ? ['--json', ...argv] : argv);
      const why = problem(o, where, json);
      if (why) out.push({ argv: o.argv, why });
    }
  };
  if (format === 'sysfs') {
    const dir = join(tmp, `dump-${i}`);
    writeDump(c.hostSeed!, dir);
    c.mutate!(dir);
    const where = new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    await check(['--host', `linux:${dir}`, 'scan'], where);
    await check(['--host', `sim:${dir}`, 'scan'], where);
    rmSync(dir, { recursive: true, force: true });
    return out;
  }
  const ext = format === 'lspci' ? 'txt' : 'yaml';
  const file = join(tmp, `case-${i}.${ext}`);
  writeFileSync(file, c.text);
  // Text formats locate every problem as file:line:col.
  const where = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+:\\d+)?|topology|scenario`);
  if (format === 'topology') await check(['--host', `sim:${file}`, 'scan'], where);
  else if (format === 'scenario') await check(['run', file], where);
  else {
    for (const [n, json] of [
      [0, false],
      [1, true],
    ] as const) {
      const o = await cli([
        ...(json ? ['--json'] : []),
        'import-lspci',
        file,
        '-o',
        join(tmp, `out-${i}-${n}.yaml`),
      ]);
      const why = problem(o, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`), json);
      if (why) out.push({ argv: o.argv, why });
    }
  }
  rmSync(file, { force: true });
  return out;
}

const [format, seedText, countText] = process.argv.slice(2);
if (!['topology', 'scenario', 'lspci', 'sysfs'].includes(String(format)))
  throw new Error(`usage: run.ts topology|scenario|lspci|sysfs <seed> <count> (got ${format})`);
const tmp = mkdtempSync(join(tmpdir(), `vfio-reset-fuzz-${format}-`));
const stats = { format, cases: 0, cliRuns: 0, refused: 0, failures: 0, maxMs: 0 };
try {
  const cases = fileCases(format as Format, Number(seedText), Number(countText));
  // One case after another: each is timed alone, and its `start` line names it if it hangs.
  for (const [i, c] of cases.entries()) {
    process.stdout.write(`${JSON.stringify({ start: i })}\n`);
    const t0 = performance.now();
    const fails = await runCase(format as Format, c, i, tmp);
    stats.maxMs = Math.max(stats.maxMs, performance.now() - t0);
    stats.cases++;
    stats.cliRuns += format === 'sysfs' ? 4 : 2;
    for (const f of fails) {
      stats.failures++;
      process.stdout.write(`${JSON.stringify({ fail: i, input: c.text.slice(0, 2000), ...f })}\n`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
stats.refused = refused;
stats.maxMs = Math.round(stats.maxMs);
process.stdout.write(`${JSON.stringify({ done: stats })}\n`);
