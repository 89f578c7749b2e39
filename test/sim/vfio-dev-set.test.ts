import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimKernel } from '../../src/sim/kernel.ts';
import { mixedKeysKernel, sriovKernel } from '../helpers/vfio-hosts.ts';
import {
  deviceView,
  eraKernel,
  getDeviceFd,
  hotReset,
  kernel,
  openDevice,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const keys = (k: SimKernel) => Object.fromEntries(k.vfioState().devSets.map((s) => [s.key, s.members]));

test('S0: vfio-pci refuses a bridge (header type 1) with EINVAL', () => {
  const k = kernel('qemu-ppb');
  const bridge = '0000:01:00.0'; // the pcie-pci-bridge, driverless
  k.sys.writeSysfs(`bus/pci/devices/${bridge}/driver_override`, 'vfio-pci');
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', bridge), 'EINVAL', 'S0.bridge');
  assert.equal(k.host.state(bridge)!.driver, null);
  assert.equal(k.sysfs.kind(`bus/pci/devices/${bridge}/driver`), null);
});

test('S0: vfio-pci refuses an SR-IOV PF with VFs enabled (EBUSY, 6.1) but not in 2013', () => {
  for (const [era, ok] of [
    ['6.1', false],
    ['2013', true],
  ] as const) {
    const k = sriovKernel({ era });
    const pf = '0000:01:00.0';
    k.sys.writeSysfs(`bus/pci/devices/${pf}/driver_override`, 'vfio-pci');
    k.sys.writeSysfs('bus/pci/drivers/ixgbe/unbind', pf);
    if (ok) k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', pf);
    else throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', pf), 'EBUSY', 'S0.sriov');
    assert.equal(k.host.state(pf)!.driver, ok ? 'vfio-pci' : null);
  }
});

test('S0: without an IOMMU group vfio-pci cannot bind (EINVAL); a description saying otherwise boots unbound', () => {
  const k = kernel('qemu-rp', { iommu: false });
  const bdf = '0000:01:00.0';
  assert.equal(k.host.state(bdf)!.driver, null);
  assert.ok(k.log.dmesg().some((l) => l.includes(bdf) && /probe failed/.test(l)));
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', bdf), 'EINVAL', 'S0.no-group');
});

test('S1: root-bus function → its own set; pciehp slot → the slot; anything else → the bus', () => {
  assert.deepEqual(keys(kernel('qemu-root')), { 'dev:0000:00:02.0': ['0000:00:02.0'] });
  assert.deepEqual(keys(kernel('qemu-rpn')), { 'slot:0000:01:1': ['0000:01:00.0'] });
  // acpiphp cannot reset a slot, so RP keys by bus even though a slot exists.
  assert.deepEqual(keys(kernel('qemu-rp')), { 'bus:0000:01': ['0000:01:00.0'] });
  assert.deepEqual(keys(kernel('qemu-ppb')), { 'bus:0000:02': ['0000:02:01.0', '0000:02:01.1'] });
  assert.deepEqual(keys(kernel('m2g')), { 'bus:0000:01': ['0000:01:00.0', '0000:01:00.1'] });
});

test('S1: an SR-IOV VF is its own dev_set even on its PF bus (6.1 stable back-port of the VF dev_set fix)', () => {
  assert.deepEqual(keys(sriovKernel()), { 'dev:0000:01:10.0': ['0000:01:10.0'] });
});

test('S1 [2013]: there are no dev_sets', () => {
  const k = eraKernel('qemu-ppb', '2013');
  assert.deepEqual(k.vfioState().devSets, []);
  assert.equal(deviceView(k, '0000:02:01.0').devSet, null);
});

test('S2: only functions bound to vfio-pci are members; members stay in bind order', () => {
  const k = kernel('qemu-ppb');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', '0000:02:01.0');
  assert.deepEqual(keys(k), { 'bus:0000:02': ['0000:02:01.1'] });
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', '0000:02:01.0');
  assert.deepEqual(keys(k), { 'bus:0000:02': ['0000:02:01.1', '0000:02:01.0'] });
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', '0000:02:01.0');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', '0000:02:01.1');
  assert.deepEqual(keys(k), {});
});

test('S3/H14: one bus can hold two dev_sets (slot key and bus key); a hot reset of that bus then fails EINVAL', () => {
  const k = mixedKeysKernel();
  assert.deepEqual(keys(k), { 'slot:0000:01:A': ['0000:01:01.0'], 'bus:0000:01': ['0000:01:02.0'] });
  const o = openDevice(k, '0000:01:02.0');
  throwsErrno(() => hotReset(k, o.device, [o.group]), 'EINVAL', 'H6');
  // The slot member's own scope is its slot, which its set covers.
  const d = getDeviceFd(k, o.group, '0000:01:01.0');
  assert.equal(hotReset(k, d, [o.group]), 0);
});
