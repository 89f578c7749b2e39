import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parse } from 'yaml';
import { hasDuplicateKeys, parsePlainJson } from '../../src/topology/json-fast.ts';
import { parseTopology, TopologyFileError } from '../../src/topology/load.ts';

const examples = readdirSync('examples').filter((f) => f.endsWith('.yaml'));

describe('parsePlainJson', () => {
  it('gives JSON.parse of an object or array without repeated keys', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue())), (v) => {
        const text = JSON.stringify(v, null, 1);
        assert.deepEqual(parsePlainJson(text), JSON.parse(text));
      }),
    );
  });

  it('declines YAML, bare scalars, broken JSON and repeated keys (the YAML reading reports those)', () => {
    assert.equal(parsePlainJson('name: x\n'), undefined);
    assert.equal(parsePlainJson('"x"'), undefined);
    assert.equal(parsePlainJson('{"a": 1,}'), undefined);
    assert.equal(parsePlainJson('{"a": 1, "b": {"c": 2, "c": 3}}'), undefined);
    assert.equal(parsePlainJson('  \n'), undefined);
  });

  it('finds a repeated key at any depth, also spelled with escapes, and only within one object', () => {
    assert.equal(hasDuplicateKeys('{"a": 1, "a": 2}'), true);
    assert.equal(hasDuplicateKeys('[{"a": 1}, {"a": 2}]'), false);
    assert.equal(hasDuplicateKeys('{"a": {"a": 1}, "b": [{"x": "a", "y": "\\"a"}]}'), false);
    assert.equal(hasDuplicateKeys('{"x": [1, {"k": 1, "\\u006b": 2}]}'), true);
    assert.equal(hasDuplicateKeys('{"s": "{\\"a\\": 1, \\"a\\": 2}"}'), false);
  });
});

describe('topology files written as JSON', () => {
  it('load exactly as their YAML does, for every example', () => {
    for (const f of examples) {
      const yaml = readFileSync(`examples/${f}`, 'utf8');
      const json = JSON.stringify(parse(yaml), null, 2);
      assert.deepEqual(parseTopology(json, `${f}.json`), parseTopology(yaml, f), f);
    }
  });

  it('still report mistakes with line and column, from the schema and from the checks after it', () => {
    const json = (o: unknown) => JSON.stringify(o, null, 2);
    const bad = json({ name: 'x', roots: [{ devices: [{ bdf: '00:00.0', kind: 'endpointt' }] }] });
    assert.throws(
      () => parseTopology(bad, 'bad.json'),
      (e: unknown) => {
        assert.ok(e instanceof TopologyFileError);
        assert.match(e.message, /^bad\.json:6:\d+: /);
        return true;
      },
    );
    const twice = json({
      name: 'x',
      roots: [
        {
          devices: [
            { bdf: '00:01.0', kind: 'endpoint', id: '8086:10d3' },
            { bdf: '00:01.0', kind: 'endpoint', id: '8086:10d3' },
          ],
        },
      ],
    });
    assert.throws(
      () => parseTopology(twice, 'twice.json'),
      (e: unknown) => {
        assert.ok(e instanceof TopologyFileError);
        assert.match(
          e.message,
          /^twice\.json:6:9: roots\.0\.devices\.0\.class: kind endpoint needs a class code/,
        );
        return true;
      },
    );
  });
});
