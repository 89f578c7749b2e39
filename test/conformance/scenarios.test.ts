/**
 * The §10 conformance suite on the simulated kernel: each file of `scenarios/conformance/` on a
 * freshly booted simulator of its topology, once per era it lists (default QEMU-guest clock).
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { test } from 'node:test';
import { simTarget } from '../../src/scenario/targets.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { conformanceFiles, runConformance } from './suite.ts';

test('every conformance file names its §10 scenario, its eras and its topology', () => {
  const bad: string[] = [];
  for (const f of conformanceFiles()) {
    const description = f.scenario.description ?? '';
    const name = basename(f.path);
    if (f.numbers.length === 0) bad.push(`${name}: checks lists no §10 scenario number`);
    if (!/§10 scenarios? \d+/.test(description)) bad.push(`${name}: the description does not quote §10`);
    if (!f.scenario.eras) bad.push(`${name}: no eras`);
    if (!f.topology) bad.push(`${name}: no topology`);
    if (!name.startsWith(`${String(f.numbers[0]).padStart(2, '0')}-`))
      bad.push(`${name}: the file name does not start with its first scenario number`);
    if (name.endsWith('-2013.yaml') && f.eras.join() !== '2013')
      bad.push(`${name}: a -2013 file runs only in 2013`);
    if (f.needsFaults !== description.includes('simulator-only'))
      bad.push(`${name}: fault steps and "simulator-only" in the description go together`);
  }
  assert.deepEqual(bad, []);
});

runConformance(({ file, era }) => {
  assert.ok(file.topology, `${file.path} names no topology: the simulator needs one`);
  return simTarget(new SimKernel(loadTopologyFile(file.topology), { era }));
});
