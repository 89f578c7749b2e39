/**
 * Facts the real Linux 6.1 kernel showed in the QEMU rig (npm run test:kernel) where the model was
 * wrong before: kept as regression tests on hand-built twins of those guests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeIommuGroups } from '../../src/pci/iommu-groups.ts';
import { initResetMethods } from '../../src/pci/reset-methods.ts';
import {
  downstreamPort,
  endpoint,
  hostBridge,
  pcieToPciBridge,
  rootPort,
  topo,
  upstreamPort,
} from '../helpers/builders.ts';

test('M2 (rig sw): a bridge alone on its bus lists "bus": its child bus is not linked when it is added', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1, { bridge: { secondary: 1, subordinate: 4 } }),
    upstreamPort('01:00.0', 2, 4, {
      pcie: {
        type: 'upstream',
        flr: true,
        linkSpeedCode: 1,
        linkSpeedsVector: 1,
        linkWidth: 1,
        dllActiveReporting: false,
        linkActive: true,
      },
    }),
    downstreamPort('02:00.0', 3, { pcieOver: { flr: true } }),
    downstreamPort('02:01.0', 4, { pcieOver: { flr: true } }),
    endpoint('03:00.0', { pcieOver: { flr: true } }),
  ]);
  const m = initResetMethods(t);
  assert.deepEqual(m.get('0000:01:00.0'), ['flr', 'bus'], 'upstream port, alone on bus 1');
  assert.deepEqual(m.get('0000:02:00.0'), ['flr', 'bus'], 'first downstream port');
  assert.deepEqual(m.get('0000:02:01.0'), ['flr'], 'second downstream port sees the first (M3)');
});

test('M2 (rig ppb): the pcie-pci-bridge alone below its root port lists "pm bus"', () => {
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1, { bridge: { secondary: 1, subordinate: 2 } }),
    pcieToPciBridge('01:00.0', 2, { pm: { noSoftReset: false } }),
  ]);
  assert.deepEqual(initResetMethods(t).get('0000:01:00.0'), ['pm', 'bus']);
});

test('A4 (rig sriov): VFs are not multifunction (pci_iov_add_virtfn), so each gets its own group', () => {
  const vf = (fn: number) => ({ ...endpoint(`01:00.${fn}`), virtfn: true });
  const t = topo([
    hostBridge(),
    rootPort('00:02.0', 1),
    { ...endpoint('01:00.0'), sriov: { totalVfs: 2, numVfs: 2, vfDeviceId: 0x10 } },
    vf(1),
    vf(2),
  ]);
  const g = computeIommuGroups(t);
  assert.equal(t.get('0000:01:00.1')!.multifunction, false);
  assert.notEqual(g.groupOf('0000:01:00.1'), g.groupOf('0000:01:00.2'));
});
