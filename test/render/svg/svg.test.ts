/**
 * The topology picture: what it holds (one card per function, a filled box per IOMMU group, an
 * outline per hot-reset domain, drivers, reset methods, marks), that it is the same bytes for the
 * same host, that text is escaped, and that large hosts fold runs of alike functions.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it, test } from 'node:test';
import { type Inventory, takeInventory } from '../../../src/host/inventory.ts';
import type { HostDesc } from '../../../src/pci/model.ts';
import { renderTopologySvg } from '../../../src/render/svg/svg.ts';
import { SimKernel } from '../../../src/sim/kernel.ts';
import { generateLargeHost } from '../../../src/topology/generate-large.ts';
import { loadTopologyFile } from '../../../src/topology/load.ts';
import { endpoint, hostBridge, rootPort } from '../../helpers/builders.ts';

const inventoryOfDesc = (desc: HostDesc, era: '6.1' | '2013' = '6.1'): Inventory =>
  takeInventory(new SimKernel(desc, { era }).sysfs, { era, name: desc.name, origin: `sim:${desc.name}` });
const example = (name: string) => inventoryOfDesc(loadTopologyFile(`examples/${name}.yaml`));

const all = (svg: string, re: RegExp) => [...svg.matchAll(re)].map((m) => m[1]!);
const cardsOf = (svg: string) => all(svg, /<g class="fn(?: bridge)?" data-bdf="([^"]+)"/g);
const groupBoxes = (svg: string) => all(svg, /<rect class="group-box" data-group="(\d+)"/g);
const domainOutlines = (svg: string) => all(svg, /<rect class="domain domain-\w+" data-domain="([^"]+)"/g);
/** The markup of one function's card. */
function card(svg: string, bdf: string): string {
  const start = svg.indexOf(`data-bdf="${bdf}"`);
  assert.ok(start >= 0, `${bdf} has a card`);
  return svg.slice(start, svg.indexOf('</g>', start));
}
const textsOf = (markup: string, cls: string) =>
  all(markup, new RegExp(`<text [^>]*class="${cls}"[^>]*>([^<]*)</text>`, 'g'));

describe('the workstation example', () => {
  const inv = example('workstation');
  const svg = renderTopologySvg(inv);

  it('has one card per function, in the kernel order', () => {
    assert.deepEqual(
      cardsOf(svg),
      // Depth first below each bridge, as `lspci -t` lists them.
      [
        '0000:00:00.0',
        '0000:00:01.0',
        '0000:01:00.0',
        '0000:01:00.1',
        '0000:00:02.0',
        '0000:00:14.0',
        '0000:00:17.0',
        '0000:00:1b.0',
        '0000:02:00.0',
        '0000:03:00.0',
        '0000:04:00.0',
        '0000:03:01.0',
        '0000:05:00.0',
        '0000:03:02.0',
        '0000:03:03.0',
        '0000:00:1c.0',
        '0000:08:00.0',
        '0000:08:00.1',
        '0000:00:1c.4',
        '0000:09:00.0',
        '0000:0a:00.0',
        '0000:0a:01.0',
        '0000:00:1f.0',
        '0000:00:1f.3',
        '0000:00:1f.4',
        '0000:00:1f.6',
      ],
    );
  });

  it('draws one filled box per IOMMU group (every group is one run of rows here)', () => {
    assert.equal(inv.groups.length, 19);
    assert.deepEqual(
      groupBoxes(svg)
        .map(Number)
        .sort((a, b) => a - b),
      inv.groups.map((g) => g.id),
    );
  });

  it('outlines the five hot-reset domains: three pciehp slots and two secondary buses', () => {
    assert.deepEqual(domainOutlines(svg).sort(), [
      'bus:0000:08',
      'bus:0000:0a',
      'slot:0000:01:1',
      'slot:0000:04:10',
      'slot:0000:05:11',
    ]);
    assert.match(svg, /class="domain domain-slot" data-domain="slot:0000:01:1"/);
    assert.match(svg, /class="domain domain-bus" data-domain="bus:0000:08"/);
    assert.doesNotMatch(svg, /domain-hazard/, 'no plain bus reset below a hotplug port here');
  });

  it('labels drivers, reset methods, and on each bridge the reset it does below', () => {
    const gpu = card(svg, '0000:01:00.0');
    assert.deepEqual(textsOf(gpu, 'driver'), ['nvidia']);
    assert.deepEqual(textsOf(gpu, 'methods'), ['flr pm bus']);
    assert.deepEqual(textsOf(card(svg, '0000:05:00.0'), 'driver'), ['vfio-pci']);
    assert.deepEqual(textsOf(card(svg, '0000:0a:01.0'), 'methods'), ['(no reset)']);
    assert.deepEqual(textsOf(card(svg, '0000:00:01.0'), 'domain-tag'), ['⇣ slot 1']);
    assert.deepEqual(textsOf(card(svg, '0000:09:00.0'), 'domain-tag'), ['⇣ bus 0a']);
    // A bridge names the slots below it: the root port's pciehp slot, the PCI bridge's two ACPI slots.
    assert.match(textsOf(card(svg, '0000:00:01.0'), 'name')[0]!, /^root port · slot 1 pciehp · 16 GT\/s$/);
    assert.match(textsOf(card(svg, '0000:09:00.0'), 'name')[0]!, /^PCIe-to-PCI bridge · slots 5, 6 /);
    const drivers = inv.functions.map((f) => f.driver ?? '—');
    assert.deepEqual(textsOf(svg, 'driver').sort(), drivers.sort(), 'every function shows its driver');
  });

  it('marks blockers and warnings, with the messages on hover', () => {
    // The GPU's hot reset needs its audio function, which snd_hda_intel holds (and the group is not viable).
    const gpu = card(svg, '0000:01:00.0');
    assert.deepEqual(textsOf(gpu, 'mark-blocker'), ['✗2']);
    assert.match(
      gpu,
      /blocker: hot reset of 0000:01:00\.0 needs 0000:01:00\.1 \(group 9, driver snd_hda_intel\)/,
    );
    assert.deepEqual(textsOf(card(svg, '0000:05:00.0'), 'mark-blocker'), [], 'the vfio-pci NVMe is clear');
  });

  it('puts each function on its group colour and number', () => {
    assert.match(card(svg, '0000:08:00.1'), /data-group="17"/);
    assert.match(card(svg, '0000:08:00.1'), /<text [^>]*>17<\/text>/);
  });

  it('is the same bytes every time', () => {
    assert.equal(renderTopologySvg(example('workstation')), svg);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
  });
});

test('every example: a card per function, a domain outline per hot-reset scope, at least a box per group', () => {
  for (const file of readdirSync('examples').filter((f) => f.endsWith('.yaml'))) {
    const inv = example(file.replace(/\.yaml$/, ''));
    const svg = renderTopologySvg(inv);
    assert.deepEqual(cardsOf(svg).sort(), inv.functions.map((f) => f.bdf).sort(), file);
    const scopes = new Set(inv.functions.flatMap((f) => (f.hotReset ? [f.hotReset.id] : [])));
    assert.deepEqual(new Set(domainOutlines(svg)), scopes, file);
    assert.deepEqual(new Set(groupBoxes(svg).map(Number)), new Set(inv.groups.map((g) => g.id)), file);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 \d+ \d+"/, file);
  }
});

test('a bus reset below an acpiphp hotplug port is outlined as a hazard and the legend says why (PH1)', () => {
  const inv = example('qemu-rp');
  assert.ok(inv.domains.some((d) => d.problems.some((p) => p.code === 'hotplug-port-plain-sbr')));
  const svg = renderTopologySvg(inv);
  assert.match(svg, /class="domain domain-hazard" data-domain="bus:0000:01"/);
  assert.match(svg, /bus reset below a hotplug port \(seen as a surprise removal\)/);
});

test('text from the host is escaped', () => {
  const inv = example('qemu-ppb');
  const nasty = {
    ...inv,
    host: `<script>alert("x")</script> & 'co'`,
    functions: inv.functions.map((f, i) => (i === 0 ? { ...f, driver: 'a<b>&c' } : f)),
  };
  const svg = renderTopologySvg(nasty);
  assert.ok(svg.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;'));
  assert.ok(svg.includes('a&lt;b&gt;&amp;c'));
  assert.ok(!svg.includes('<script>') && !svg.includes('a<b>'));
});

test('the IOMMU off: no group boxes, no badges, the cards stay', () => {
  const desc = loadTopologyFile('examples/qemu-ppb.yaml');
  const inv = { ...inventoryOfDesc(desc), iommu: false, groups: [] };
  const off = { ...inv, functions: inv.functions.map((f) => ({ ...f, group: null })) };
  const svg = renderTopologySvg(off);
  assert.deepEqual(groupBoxes(svg), []);
  assert.doesNotMatch(svg, /class="badge"/);
  assert.equal(cardsOf(svg).length, off.functions.length);
  assert.match(svg, /IOMMU off/);
});

test('several root buses get a heading each', () => {
  const desc: HostDesc = {
    name: 'two-roots',
    functions: [
      hostBridge('00:00.0'),
      rootPort('00:01.0', 1),
      endpoint('01:00.0', { driver: 'vfio-pci' }),
      hostBridge('80:00.0'),
      rootPort('80:01.0', 0x81),
      endpoint('81:00.0', { driver: 'nvme' }),
    ],
    slots: [],
  };
  const svg = renderTopologySvg(inventoryOfDesc(desc));
  assert.deepEqual(all(svg, /<g class="bus" data-bus="([^"]+)"/g), ['0000:00', '0000:80']);
  assert.equal(cardsOf(svg).length, 6);
});

describe('a 200-function server', () => {
  const inv = inventoryOfDesc(generateLargeHost({ functions: 200 }));
  const folded = renderTopologySvg(inv);
  const full = renderTopologySvg(inv, { foldRuns: false });

  it('folds runs of alike functions (the VFs) and keeps every address', () => {
    const runs = all(folded, /<g class="fn run" data-bdfs="([^"]+)"/g).map((s) => s.split(' '));
    assert.ok(runs.length > 0);
    const shown = [...cardsOf(folded), ...runs.flat()];
    assert.deepEqual(shown.sort(), inv.functions.map((f) => f.bdf).sort(), 'each function exactly once');
    assert.ok(cardsOf(folded).length + runs.length < 80, `${cardsOf(folded).length + runs.length} rows`);
    for (const r of runs) assert.ok(r.length >= 6, 'only long runs fold');
  });

  it('without folding, every function has its own card', () => {
    assert.equal(cardsOf(full).length, 200);
    const height = (svg: string) => Number(svg.match(/height="(\d+)"/)![1]);
    assert.ok(height(folded) < height(full) / 2, `${height(folded)} vs ${height(full)}`);
  });
});
