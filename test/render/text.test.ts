/** `scan` as text (render/text.ts) on a server whose NICs put 64 functions on one bus. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeInventory } from '../../src/host/inventory.ts';
import { renderScan } from '../../src/render/text.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { generateLargeHost } from '../../src/topology/generate-large.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

const inv = takeInventory(new SimKernel(generateLargeHost({ functions: 256 })).sysfs);
const text = renderScan(inv);
const lines = text.split('\n');

test("a reset domain's problems are said once, of the domain, however many of its functions are on vfio-pci", () => {
  const bus = inv.domains.find((d) => d.id === 'bus:0000:07')!;
  const vfio = bus.affected.filter((a) => a.driver === 'vfio-pci');
  assert.ok(vfio.length > 1, 'several functions of the bus are handed to VFIO');
  for (const b of bus.bindToVfio) {
    const said = lines.filter((l) => l.includes(`hot reset of bus 0000:07 needs ${b.bdf} `));
    assert.equal(said.length, 1, `${b.bdf} is named once`);
  }
  assert.doesNotMatch(text, /hot reset of 0000:07:\d\d\.\d needs/, 'never once per function');
  const heading = /For the functions bound to vfio-pci: (\d+) blockers?, (\d+) warnings?:/.exec(text);
  assert.ok(heading, 'the problem summary is there');
  assert.equal(lines.filter((l) => l.startsWith('  ✗ ')).length, Number(heading[1]));
  assert.equal(lines.filter((l) => l.startsWith('  ! ')).length, Number(heading[2]));
});

test('past four IOMMU groups the hot-reset column gives their count; up to four, the groups', () => {
  assert.match(text, /0000:07:01\.0 .* bus 0000:07: 64 fns, 64 groups \(blocked\)/);
  assert.doesNotMatch(text, /groups (\d+,){4,}\d+/);
  // The workstation's GPU slot: two functions in one group.
  const ws = renderScan(takeInventory(new SimKernel(loadTopologyFile('examples/workstation.yaml')).sysfs));
  assert.match(ws, /0000:01:00\.0 .* slot 1: 2 fns, group 9 /);
});
