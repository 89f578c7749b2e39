import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BdfError, compareBdf, devfn, formatBdf, fromDevfn, parseBdf } from '../../src/pci/bdf.ts';

test('parses the kernel form and the short form', () => {
  assert.deepEqual(parseBdf('0000:01:00.1'), { domain: 0, bus: 1, device: 0, fn: 1 });
  assert.deepEqual(parseBdf('3a:1F.7'), { domain: 0, bus: 0x3a, device: 0x1f, fn: 7 });
  assert.deepEqual(parseBdf(' 10000:00:00.0 '.replace('10000', '0001')), {
    domain: 1,
    bus: 0,
    device: 0,
    fn: 0,
  });
});

test('formats as pci_name(): lower-case, zero-padded', () => {
  assert.equal(formatBdf(parseBdf('3A:1F.7')), '0000:3a:1f.7');
});

test('bad addresses give one BdfError naming the input and the expected form', () => {
  for (const bad of [
    '',
    '01:00',
    '01:00.8',
    '01:20.0',
    '1:2:3:4.0',
    'zz:00.0',
    '10000:00:00.0',
    '0000:01:00.0.1',
  ]) {
    assert.throws(
      () => parseBdf(bad),
      (e: unknown) => e instanceof BdfError && e.input === bad && e.message.includes('dddd:bb:dd.f'),
      bad,
    );
  }
});

test('property: format and parse are inverse; devfn packs slot and function', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      (domain, bus, df) => {
        const b = fromDevfn(domain, bus, df);
        assert.deepEqual(parseBdf(formatBdf(b)), b);
        assert.equal(devfn(b), df);
      },
    ),
  );
});

test('compareBdf orders by domain, bus, devfn', () => {
  const xs = ['0001:00:00.0', '0000:02:00.0', '0000:01:01.0', '0000:01:00.7']
    .map(parseBdf)
    .sort(compareBdf)
    .map(formatBdf);
  assert.deepEqual(xs, ['0000:01:00.7', '0000:01:01.0', '0000:02:00.0', '0001:00:00.0']);
});
