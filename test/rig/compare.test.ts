/** Comparing a guest's sysfs with a simulated twin, here with two twins standing in for both. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compareSysfs, type Difference, differencesText } from '../../src/rig/compare.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const sim = (name: string) => new SimKernel(loadTopologyFile(join(EXAMPLES, name)), { era: '6.1' }).sysfs;

describe('compareSysfs', () => {
  it('finds nothing between a twin and itself', () => {
    assert.deepEqual(compareSysfs(sim('qemu-ppb.yaml'), sim('qemu-ppb.yaml')), []);
  });

  it('sees which driver owns a slot (ACPI vs native hotplug)', () => {
    assert.deepEqual(compareSysfs(sim('qemu-rp.yaml'), sim('qemu-rpn.yaml')), [
      { what: 'slot', where: '0000:01:00', predicted: 'acpiphp "0"', real: 'pciehp "1"' },
    ]);
  });

  it('compares group partitions, drivers, reset_method and missing functions', () => {
    const d = compareSysfs(sim('qemu-rp.yaml'), sim('qemu-mf.yaml'));
    const where = (what: Difference['what']) => d.filter((x) => x.what === what).map((x) => x.where);
    assert.deepEqual(where('function'), ['0000:01:00.1']);
    assert.deepEqual(where('group mates'), ['0000:01:00.0']);
  });
});

describe('differencesText', () => {
  it('folds a run of slots the twin lacks on one bus into one line', () => {
    const slot = (dev: string, name: string): Difference => ({
      what: 'slot',
      where: `0000:02:${dev}`,
      predicted: '(no slot)',
      real: `acpiphp "${name}"`,
    });
    const lines = differencesText([
      { what: 'reset_method', where: '0000:01:00.0', predicted: '(no file)', real: '"pm bus"' },
      slot('00', '0'),
      slot('02', '2'),
      slot('1f', '31'),
    ]);
    assert.deepEqual(lines, [
      'reset_method 0000:01:00.0: predicted (no file), kernel "pm bus"',
      'slot 0000:02:00..1f: predicted (no slot), kernel 3 acpiphp slots "0".."31"',
    ]);
  });
});
