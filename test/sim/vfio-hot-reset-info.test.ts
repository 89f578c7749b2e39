import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimKernel } from '../../src/sim/kernel.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { decodeHotResetInfo, hotResetInfoSize } from '../../src/uapi/vfio-structs.ts';
import { sriovKernel } from '../helpers/vfio-hosts.ts';
import {
  eraKernel,
  getDeviceFd,
  groupIdOf,
  hotResetInfo,
  hotResetInfoCall,
  infoBuffer,
  kernel,
  openDevice,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';
const RP = '0000:01:00.0';
const info = (k: SimKernel, fd: number, buf: Uint8Array) =>
  k.sys.ioctl(fd, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, buf);

/** Makes `bdf` look group-less to the kernel (the model gives every function a group when the IOMMU is on). */
function dropGroup(k: SimKernel, bdf: string): void {
  const groups = k.host.groups;
  const orig = groups.groupOf.bind(groups);
  Object.assign(groups, {
    groupOf: (f: Parameters<typeof orig>[0]) =>
      (typeof f === 'string' ? f : f.name) === bdf ? null : orig(f),
  });
}

test('I1 (scenario 20): argsz 8 fails EINVAL; a buffer shorter than the 12-byte header fails EFAULT', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  throwsErrno(() => info(k, o.device, infoBuffer(8)), 'EINVAL', 'I1');
  throwsErrno(() => info(k, o.device, new Uint8Array(8)), 'EFAULT', 'copy_from_user');
});

test('I4 (scenario 20): argsz 12 → ENOSPC with count 1 and flags 0 written back, argsz unchanged', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const buf = infoBuffer(12);
  throwsErrno(() => info(k, o.device, buf), 'ENOSPC', 'I4');
  assert.deepEqual(decodeHotResetInfo(buf), { argsz: 12, flags: 0, count: 1, devices: [] });
});

test('I5/I7 (scenario 20): argsz 20 → 0, count 1, entry {group of the e1000e, segment 0, bus 1, devfn 0}', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, RP);
  const { info: i } = hotResetInfoCall(k, o.device, 20);
  assert.deepEqual(i, {
    argsz: 20,
    flags: 0,
    count: 1,
    devices: [{ id: groupIdOf(k, RP), segment: 0, bus: 1, devfn: 0 }],
  });
});

test('I3/I5 (scenario 21): PPB from either function: 2 entries, devfn 0x08 then 0x09, the bridge group for both', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const d1 = getDeviceFd(k, o.group, F1);
  const bridgeGroup = groupIdOf(k, '0000:01:00.0');
  for (const fd of [o.device, d1]) {
    const i = hotResetInfo(k, fd);
    assert.equal(i.count, 2);
    assert.deepEqual(
      i.devices.map((d) => [d.id, d.bus, d.devfn]),
      [
        [bridgeGroup, 2, 0x08],
        [bridgeGroup, 2, 0x09],
      ],
    );
  }
});

test('I10 (scenario 22): drivers do not matter — 02:01.1 unbound or on pci-stub still gives count 2', () => {
  const k = kernel('qemu-ppb');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  const o = openDevice(k, F0);
  assert.equal(hotResetInfo(k, o.device).count, 2);
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'pci-stub');
  k.sys.writeSysfs('bus/pci/drivers/pci-stub/bind', F1);
  assert.equal(hotResetInfo(k, o.device).count, 2);
});

test('I10: any device fd may ask, whatever holds the other functions (a host driver in scope too)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, '\n');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  assert.equal(hotResetInfo(k, o.device).count, 2);
});

test('I2 (scenario 23): ROOT → ENODEV; a VF on a virtual bus → ENODEV', () => {
  const k = kernel('qemu-root');
  const o = openDevice(k, '0000:00:02.0');
  throwsErrno(() => info(k, o.device, infoBuffer(64)), 'ENODEV', 'I2');
  const v = sriovKernel({ vfBus: 2 });
  const vo = openDevice(v, '0000:02:10.0');
  throwsErrno(() => info(v, vo.device, infoBuffer(64)), 'ENODEV', 'I2');
});

test('I3 (scenario 24): SW nvme → count 1, group id of the xio3130 downstream port', () => {
  const k = kernel('qemu-sw');
  const o = openDevice(k, '0000:03:00.0');
  const i = hotResetInfo(k, o.device);
  assert.equal(i.count, 1);
  assert.equal(i.devices[0]!.id, groupIdOf(k, '0000:02:00.0'));
});

test('I3: a VF on its PF bus sees the PF and itself (bus scope)', () => {
  const k = sriovKernel();
  const o = openDevice(k, '0000:01:10.0');
  assert.deepEqual(
    hotResetInfo(k, o.device).devices.map((d) => d.devfn),
    [0x00, 0x80],
  );
});

test('I6: output flags are 0 in group mode whatever the caller wrote (infoBuffer writes 0x55)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  assert.equal(hotResetInfoCall(k, o.device, 64).info.flags, 0);
});

test('I7: with room to spare only count entries are written; argsz stays; a lying argsz fails EFAULT', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  const { buf, info: i } = hotResetInfoCall(k, o.device, 64);
  assert.equal(i.argsz, 64);
  assert.ok(buf.subarray(hotResetInfoSize(2)).every((b) => b === 0));
  // argsz promises 28 bytes but the buffer holds 20: the header is written, the entries fault.
  const short = infoBuffer(28, 20);
  throwsErrno(() => info(k, o.device, short), 'EFAULT', 'copy_to_user');
  assert.equal(decodeHotResetInfo(short).count, 2);
});

test('I5/I9 [6.1]: a function without an IOMMU group → EPERM, the header copied back with the caller count', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  dropGroup(k, F1);
  const buf = infoBuffer(64, 64, 7);
  throwsErrno(() => info(k, o.device, buf), 'EPERM', 'I5');
  const h = decodeHotResetInfo(buf.subarray(0, 12));
  assert.deepEqual([h.argsz, h.flags, h.count], [64, 0, 7]);
});

test('I9 [6.6+]: on EPERM nothing is copied back (flags keep the caller value)', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const o = openDevice(k, F0);
  dropGroup(k, F1);
  const buf = infoBuffer(64, 64, 7);
  throwsErrno(() => info(k, o.device, buf), 'EPERM', 'I5');
  assert.equal(decodeHotResetInfo(buf.subarray(0, 12)).flags, 0x55);
});

test('I11 [2013]: identical to 6.1 — group ids, flags 0, the same ENOSPC protocol', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const o = openDevice(k, F0);
  const i = hotResetInfo(k, o.device);
  assert.deepEqual([i.flags, i.count, i.devices.map((d) => d.devfn)], [0, 2, [0x08, 0x09]]);
});

test('I11/scenario 25: 6.6+ group-mode devices get flags 0 and group ids', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const o = openDevice(k, F0);
  const i = hotResetInfo(k, o.device);
  assert.deepEqual([i.flags, i.devices.map((d) => d.id)], [0, [3, 3]]);
});
