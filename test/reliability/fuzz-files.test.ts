/**
 * Fuzzing the four file formats the CLI reads — topology files, scenario files, `lspci -xxxx`
 * dumps and sysfs dumps — through the CLI, random and mutated (fuzz/inputs.ts, fuzz/run.ts): every
 * input ends in success or in one clear error naming the file (line:column for text formats) with
 * a known VFIO_RESET_E_* code, never a crash, a stack trace or a hang. Each format runs in a child
 * process under a deadline: a hang is killed and the last case it started is reported.
 * The parser-level fuzz tests stay where they are (test/topology, test/scenario); these add the
 * user's whole path, the sysfs dump, and the time box.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { figures, runSeed } from './figures.ts';
import { type Format, fileCases, writeDump } from './fuzz/inputs.ts';

const fig = figures('fuzz');
const scale = Math.max(1, Number(process.env.VFIO_RESET_FUZZ) || 1);
const COUNTS: Record<Format, number> = { topology: 300, scenario: 300, lspci: 300, sysfs: 150 };
/** Per format; far above the ~10 s a run takes, low enough that a hang ends the test. */
const DEADLINE_MS = 240_000;
const seed = runSeed('fuzz');
const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const format of ['topology', 'scenario', 'lspci', 'sysfs'] as const) {
  test(`${format}: ${COUNTS[format] * scale} random and mutated inputs through the CLI — one located error or success, never a crash or a hang`, () => {
    const count = COUNTS[format] * scale;
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/reliability/fuzz/run.ts', format, String(seed), String(count)],
      { encoding: 'utf8', timeout: DEADLINE_MS * scale, maxBuffer: 64 * 1024 * 1024 },
    );
    const lines = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const done = lines.find((l) => 'done' in l)?.done as
      | { cases: number; cliRuns: number; refused: number }
      | undefined;
    if (!done) {
      const last = [...lines].reverse().find((l) => 'start' in l)?.start as number | undefined;
      const input = last === undefined ? '(none started)' : fileCases(format, seed, count)[last]!.text;
      assert.fail(
        `the ${format} run ${r.signal ? `was killed (${r.signal}) after ${DEADLINE_MS} ms` : `exited ${r.status}`}; last case started: ${last} (seed ${seed}):\n${input.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`,
      );
    }
    const fails = lines.filter((l) => 'fail' in l);
    assert.deepEqual(
      fails
        .slice(0, 5)
        .map((f) => `case ${f.fail} (seed ${seed}): ${(f.argv as string[]).join(' ')}: ${f.why}`),
      [],
    );
    fig.add('inputs', done.cases);
    fig.add('cliRuns', done.cliRuns);
    fig.add('refused', done.refused);
    fig.set(`${format}Inputs`, done.cases);
    fig.set(`${format}Refused`, done.refused);
    fig.set(`${format}CliRuns`, done.cliRuns);
  });
}

// Regressions: what the fuzzing found, kept as fixed cases (test/reliability/found.yaml).

test('regression: a scenario step naming a handle whose defining step failed is a failed step, not an internal error', async () => {
  const file = join(tmp, 'unset-handle.yaml');
  writeFileSync(
    file,
    `name: t\ntopology: ${join(process.cwd(), 'examples/qemu-rp.yaml')}\nsteps:\n  - { open: /dev/vfio/vfiox, as: c }\n  - { api-version: c }\n`,
  );
  const r = await runCli('run', file);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /handle 'c' holds nothing: the step that defines it with as: failed/);
});

test('regression: a sysfs dump showing an impossible tree is refused naming the dump', async () => {
  const dir = join(tmp, 'impossible');
  writeDump(2096606875, dir);
  // bus/pci/devices/<one bridge> now points at another bridge's directory: two claim one bus.
  const link = join(dir, 'bus/pci/devices/0000:00:02.0');
  unlinkSync(link);
  symlinkSync('../../../devices/pci0000:00/0000:00:01.0', link);
  for (const host of [`linux:${dir}`, `sim:${dir}`]) {
    const r = await runCli('--host', host, 'scan');
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(`^vfio-reset: ${dir}: the PCI tree it shows cannot be: .*is the dump complete`),
    );
    const j = JSON.parse((await runCli('--json', '--host', host, 'scan')).stdout);
    assert.equal(j.error.code, 'VFIO_RESET_E_SYSFS_READ');
  }
});
