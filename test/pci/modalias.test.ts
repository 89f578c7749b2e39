import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatModalias, parseModalias } from '../../src/pci/modalias.ts';

const nic = {
  vendor: 0x8086,
  device: 0x10fb,
  subsystemVendor: 0x8086,
  subsystemDevice: 0x000c,
  classCode: 0x020000,
};

test('prints the ids and class as modalias_show does', () => {
  // An 82599 port as /sys/bus/pci/devices/<bdf>/modalias shows it.
  assert.equal(formatModalias(nic), 'pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00\n');
  assert.equal(
    formatModalias({ ...nic, classCode: 0x0c0330 }),
    'pci:v00008086d000010FBsv00008086sd0000000Cbc0Csc03i30\n',
  );
});

test('reads back what it prints, and the lower-case prog-if of early kernels', () => {
  assert.deepEqual(parseModalias(formatModalias(nic)), nic);
  const xhci = { ...nic, classCode: 0x0c03fe };
  assert.deepEqual(parseModalias('pci:v00008086d000010FBsv00008086sd0000000Cbc0Csc03ife\n'), xhci);
});

test('anything else is not a modalias', () => {
  for (const bad of [
    '',
    '0x8086\n',
    'pci:v00008086d000010FB\n',
    'pci:v00008086d000010FBsv00008086sd0000000Cbc02sc00i00 x\n',
  ])
    assert.equal(parseModalias(bad), null, JSON.stringify(bad));
});
