/**
 * The picture's geometry: group boxes and domain outlines never cross (any two are apart or one
 * lies strictly inside the other), a box never covers a card it does not hold, and every card sits
 * inside the boxes of its group and of the domains that hold it — on the examples and on random hosts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { takeInventory } from '../../../src/host/inventory.ts';
import type { HostDesc } from '../../../src/pci/model.ts';
import { cutAgainst, spansOf } from '../../../src/render/svg/boxes.ts';
import {
  type BoxGeom,
  CARD_H,
  layoutSvg,
  type Rect,
  type SvgLayout,
} from '../../../src/render/svg/layout.ts';
import { rowFunctions } from '../../../src/render/svg/rows.ts';
import { SimKernel } from '../../../src/sim/kernel.ts';
import { generateHost } from '../../../src/topology/generate.ts';
import { generateLargeHost } from '../../../src/topology/generate-large.ts';
import { loadTopologyFile } from '../../../src/topology/load.ts';

const layoutOf = (desc: HostDesc) =>
  layoutSvg(takeInventory(new SimKernel(desc, { era: '6.1' }).sysfs, { name: desc.name }));

const strictlyInside = (outer: Rect, inner: Rect) =>
  outer.x < inner.x &&
  outer.y < inner.y &&
  inner.x + inner.w < outer.x + outer.w &&
  inner.y + inner.h < outer.y + outer.h;
const apart = (a: Rect, b: Rect) => a.x + a.w < b.x || b.x + b.w < a.x || a.y + a.h < b.y || b.y + b.h < a.y;

function describeBox(b: BoxGeom): string {
  const o = b.box.owner;
  return `${o.kind === 'group' ? `group ${o.group}` : `domain ${o.domain.key}`} rows ${b.box.first}-${b.box.last}`;
}

/** Every invariant of the geometry; returns what breaks, for a readable failure. */
function violations(lay: SvgLayout): string[] {
  const bad: string[] = [];
  const B = lay.boxes;
  for (let i = 0; i < B.length; i++)
    for (let j = i + 1; j < B.length; j++) {
      const [a, b] = [B[i]!, B[j]!];
      if (!(apart(a, b) || strictlyInside(a, b) || strictlyInside(b, a)))
        bad.push(`${describeBox(a)} crosses ${describeBox(b)}`);
    }
  for (const b of B) {
    for (const g of lay.rows) {
      const cardRect = { x: g.x, y: g.y, w: lay.columns.right - g.x, h: CARD_H };
      const holds = b.box.first <= g.row.index && g.row.index <= b.box.last;
      if (holds && !strictlyInside(b, cardRect))
        bad.push(`${describeBox(b)} does not enclose row ${g.row.index}`);
      if (!holds && !apart(b, cardRect)) bad.push(`${describeBox(b)} covers row ${g.row.index}`);
    }
  }
  // Each function sits in its group's box and in every domain that lists it.
  for (const g of lay.rows) {
    const fns = rowFunctions(g.row);
    const inBox = (pred: (b: BoxGeom) => boolean) =>
      B.some((b) => pred(b) && b.box.first <= g.row.index && g.row.index <= b.box.last);
    const groups = new Set(fns.map((f) => f.group));
    const [only] = groups;
    if (groups.size === 1 && only !== null && only !== undefined)
      if (!inBox((b) => b.box.owner.kind === 'group' && b.box.owner.group === only))
        bad.push(`row ${g.row.index} is outside the box of group ${only}`);
    for (const d of lay.domains)
      if (fns.some((f) => d.members.includes(f.bdf)))
        if (!inBox((b) => b.box.owner.kind === 'domain' && b.box.owner.domain.key === d.key))
          bad.push(`row ${g.row.index} is outside domain ${d.key}`);
  }
  // Rows go down the page in order and never overlap.
  for (let i = 1; i < lay.rows.length; i++)
    if (lay.rows[i]!.y < lay.rows[i - 1]!.y + CARD_H) bad.push(`row ${i} overlaps row ${i - 1}`);
  return bad;
}

test('spans: runs of consecutive rows; a span is cut where it would cross another', () => {
  assert.deepEqual(spansOf([5, 1, 2, 3, 7, 8]), [
    { first: 1, last: 3 },
    { first: 5, last: 5 },
    { first: 7, last: 8 },
  ]);
  assert.deepEqual(cutAgainst({ first: 2, last: 6 }, [{ first: 4, last: 9 }]), [
    { first: 2, last: 3 },
    { first: 4, last: 6 },
  ]);
  assert.deepEqual(cutAgainst({ first: 2, last: 6 }, [{ first: 0, last: 3 }]), [
    { first: 2, last: 3 },
    { first: 4, last: 6 },
  ]);
  // Nested or apart: left whole.
  assert.deepEqual(
    cutAgainst({ first: 2, last: 6 }, [
      { first: 3, last: 4 },
      { first: 0, last: 9 },
    ]),
    [{ first: 2, last: 6 }],
  );
});

test('the examples: no box crosses another, each encloses exactly its rows', () => {
  for (const name of ['workstation', 'qemu-ppb', 'qemu-sw', 'qemu-mf', 'm2g', 'qemu-rp'])
    assert.deepEqual(violations(layoutOf(loadTopologyFile(`examples/${name}.yaml`))), [], name);
});

test('a 200-function server, folded: the same holds', () => {
  assert.deepEqual(violations(layoutOf(generateLargeHost({ functions: 200 }))), []);
});

test('property: on random hosts no group box and no domain outline ever cross', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const bad = violations(layoutOf(generateHost(seed, { maxFunctions: 48 })));
      assert.deepEqual(bad, [], `seed ${seed}`);
    }),
    { numRuns: 60 },
  );
});
