import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { topologyJsonSchema } from '../../src/topology/json-schema.ts';

describe('topologyJsonSchema', () => {
  it('is a draft 2020-12 object schema with the file fields', () => {
    const s = topologyJsonSchema();
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(s.type, 'object');
    assert.equal(s.additionalProperties, false);
    const props = s.properties as Record<string, unknown>;
    assert.deepEqual(Object.keys(props).sort(), ['$schema', 'description', 'name', 'roots']);
    assert.deepEqual(s.required, ['name', 'roots']);
  });

  it('describes devices, recursively, with kinds listed', () => {
    const s = topologyJsonSchema();
    const text = JSON.stringify(s);
    const defs = s.$defs as Record<string, { properties: Record<string, { enum?: string[] }> }>;
    const device = Object.values(defs).find((d) => d.properties?.bdf && d.properties?.below);
    assert.ok(device, 'a $defs entry for the recursive device');
    assert.ok(device.properties.kind?.enum?.includes('pcie-to-pci-bridge'));
    assert.match(text, /"\$ref":"#\/\$defs\//);
    assert.doesNotThrow(() => JSON.parse(text));
  });
});
