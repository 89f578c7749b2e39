import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { takeInventory } from '../../src/host/inventory.ts';
import { scanDocument } from '../../src/render/json.ts';
import { jsonChunks, jsonPieces } from '../../src/render/json-text.ts';
import { SimHost } from '../../src/sim/host.ts';
import { projectSysfs } from '../../src/sim/sysfs.ts';
import { generateLargeHost } from '../../src/topology/generate-large.ts';

const joined = (v: unknown) => [...jsonPieces(v)].join('');

describe('jsonPieces', () => {
  it('joins to exactly JSON.stringify(value, null, 2), for any JSON value and objects of them', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())), (v) => {
        assert.equal(joined(v), JSON.stringify(v, null, 2));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves out what JSON.stringify leaves out, and writes null where it does', () => {
    const v = { a: undefined, b: () => 1, c: [undefined, 1], d: [], e: {}, f: 'x\ny', g: new Date(0) };
    assert.equal(joined(v), JSON.stringify(v, null, 2));
    assert.equal(joined({}), '{}');
    assert.equal(joined({ a: undefined }), '{}');
    assert.equal(joined([1, [2]]), JSON.stringify([1, [2]], null, 2));
  });

  it('gives a scan document in pieces no larger than a batch of functions', () => {
    const inv = takeInventory(projectSysfs(new SimHost(generateLargeHost({ functions: 1200, seed: 2 }))));
    const doc = scanDocument(inv);
    const pieces = [...jsonPieces(doc)];
    const text = JSON.stringify(doc, null, 2);
    assert.equal(pieces.join(''), text);
    assert.ok(Math.max(...pieces.map((p) => p.length)) < text.length / 3);
  });
});

describe('jsonChunks', () => {
  it('gathers pieces into chunks of at least the given size (the last excepted), losing nothing', () => {
    const doc = {
      a: 1,
      items: Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x'.repeat(i % 17) })),
      b: [],
    };
    const chunks = [...jsonChunks(doc, 1000)];
    assert.equal(chunks.join(''), JSON.stringify(doc, null, 2));
    assert.ok(chunks.length > 3);
    assert.ok(chunks.slice(0, -1).every((c) => c.length >= 1000));
    assert.deepEqual([...jsonChunks(doc)], [JSON.stringify(doc, null, 2)]);
  });
});
