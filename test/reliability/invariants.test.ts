/**
 * The invariants of issue 8 as properties over random worlds (test/reliability/world.ts): random
 * small hosts in every era, two processes making random VFIO syscalls, every invariant checked
 * after every syscall. At least 10,000 worlds per run (`VFIO_RESET_WORLDS` changes the number);
 * the worlds of regressions.yaml, which once failed, are replayed first.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { ERAS, type Era, isEra } from '../../src/pci/era.ts';
import { figures, runSeed } from './figures.ts';
import { World, type WorldCase } from './world.ts';

const fig = figures('invariants');
const WORLDS = Number(process.env.VFIO_RESET_WORLDS) || 10_000;
const STEPS = 24;

function regressions(): (WorldCase & { found?: string })[] {
  const raw = parse(readFileSync('test/reliability/regressions.yaml', 'utf8')) as unknown;
  assert.ok(Array.isArray(raw), 'regressions.yaml is a list');
  return raw.map((r: Record<string, unknown>, i) => {
    const era = String(r.era);
    assert.ok(isEra(era), `regressions.yaml entry ${i}: era ${era}`);
    for (const k of ['hostSeed', 'progSeed', 'size', 'steps'])
      assert.ok(Number.isInteger(r[k]), `regressions.yaml entry ${i}: ${k} is an integer`);
    return r as unknown as WorldCase & { found?: string };
  });
}

test('worlds that once failed hold every invariant (regressions.yaml)', () => {
  for (const c of regressions()) {
    new World(c, fig).run();
    fig.add('regressionWorlds');
  }
});

test(`${WORLDS} random worlds hold every invariant after every syscall`, () => {
  const seed = runSeed('invariants');
  fc.assert(
    fc.property(
      fc.integer(),
      fc.integer(),
      fc.constantFrom<Era>(...ERAS),
      fc.integer({ min: 3, max: 12 }),
      (hostSeed, progSeed, era, size) => {
        new World({ hostSeed, progSeed, era, size, steps: STEPS }, fig).run();
        fig.add('worlds');
      },
    ),
    { seed, numRuns: WORLDS, includeErrorInReport: true },
  );
  fig.set('stepsPerWorld', STEPS);
  // The runs must reach both sides of the ownership property, often.
  const min = WORLDS / 100;
  for (const k of ['hotResetsDone', 'hotResetsRefused', 'functionResetsDone', 'processesKilled', 'refusals'])
    assert.ok(fig.get(k) >= min, `${k}: ${fig.get(k)} (< ${min}) — the worlds no longer exercise it`);
});
