import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { decodeHotResetInfo, VFIO_PCI_DEVID } from '../../src/uapi/vfio-structs.ts';
import { attach, bind, ioasAlloc, openBound, openCdev } from '../helpers/cdev-steps.ts';
import {
  eraKernel,
  getDeviceFd,
  groupIdOf,
  hotReset,
  hotResetInfo,
  hotResetInfoCall,
  infoBuffer,
  openDevice,
  setContainer,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';
const M0 = '0000:01:00.0';
const M1 = '0000:01:00.1';
const { OWNED, NOT_OWNED } = VFIO_PCI_DEVID;

const ids = (k: ReturnType<typeof eraKernel>, fd: number) => {
  const info = hotResetInfo(k, fd);
  return { flags: info.flags, ids: info.devices.map((d) => d.id) };
};

test('I5/I6 [6.6+]: a cdev caller gets devids — own devid, OWNED through a bound group-mate, flags DEV_ID|DEV_ID_OWNED', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F0);
  assert.deepEqual(ids(k, a.cdev), { flags: 3, ids: [1, OWNED] });
  const d1 = openCdev(k, F1);
  assert.equal(bind(k, d1, a.iommufd), 2);
  assert.deepEqual(ids(k, a.cdev), { flags: 3, ids: [1, 2] });
  assert.deepEqual(ids(k, d1), { flags: 3, ids: [1, 2] }, 'the same answer from the other function');
});

test('I5/I6 [6.6+]: NOT_OWNED for a non-vfio function, for one bound to another ctx, for one opened with a container', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  const a = openBound(k, F0);
  assert.deepEqual(ids(k, a.cdev), { flags: 1, ids: [1, NOT_OWNED] }, 'not in the dev_set');

  const m = eraKernel('m2g', '6.6+');
  const ma = openBound(m, M0);
  assert.deepEqual(ids(m, ma.cdev), { flags: 1, ids: [1, NOT_OWNED] }, 'other group, nothing bound there');
  const mb = openBound(m, M1);
  assert.equal(mb.devid, 1, 'devids are per ctx');
  assert.deepEqual(ids(m, ma.cdev), { flags: 1, ids: [1, NOT_OWNED] }, 'bound, but to another ctx');
  assert.deepEqual(ids(m, mb.cdev), { flags: 1, ids: [NOT_OWNED, 1] });
  m.sys.close(mb.cdev);
  const o = openDevice(m, M1);
  assert.deepEqual(ids(m, ma.cdev), { flags: 1, ids: [1, NOT_OWNED] }, 'opened through a container');
  assert.deepEqual(
    ids(m, o.device),
    { flags: 0, ids: [groupIdOf(m, M0), groupIdOf(m, M1)] },
    'group caller: group ids',
  );
});

test('I9 [6.6+]: a cdev caller with too small an argsz gets ENOSPC with count N and flags 0; argsz stays', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F0);
  const buf = infoBuffer(12);
  throwsErrno(() => k.sys.ioctl(a.cdev, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, buf), 'ENOSPC', 'I4');
  assert.deepEqual(decodeHotResetInfo(buf), { argsz: 12, flags: 0, count: 2, devices: [] });
  const ok = hotResetInfoCall(k, a.cdev, 28).info;
  assert.equal(ok.flags, 3);
  assert.equal(ok.argsz, 28);
  throwsErrno(() => k.sys.ioctl(a.cdev, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, infoBuffer(8)), 'EINVAL', 'I1');
});

test('H20 [6.6+]: count ≠ 0 from a cdev-opened device and count 0 from a group-opened one are EINVAL, before the scope', () => {
  const k = eraKernel('qemu-root', '6.6+');
  const a = openBound(k, '0000:00:02.0');
  throwsErrno(() => hotReset(k, a.cdev, [a.iommufd]), 'EINVAL', 'H20');
  throwsErrno(() => hotReset(k, a.cdev, []), 'ENODEV', 'H2'); // then the scope (root bus: no reset)
  const p = eraKernel('qemu-ppb', '6.6+');
  const b = openBound(p, F0);
  throwsErrno(() => hotReset(p, b.cdev, [], { flags: 1 }), 'EINVAL', 'H1');
  throwsErrno(() => hotReset(p, b.cdev, [b.cdev]), 'EINVAL', 'H20');
  assert.equal(hotReset(p, b.cdev, []), 0);
});

test('H21 [6.6+]: a group-opened caller: count > N → EINVAL, a cdev fd in the array is not a group file', () => {
  const m = eraKernel('m2g', '6.6+');
  const c = openBound(m, M1);
  const o = openDevice(m, M0);
  throwsErrno(() => hotReset(m, o.device, [o.group, o.group, o.group]), 'EINVAL', 'H3');
  throwsErrno(() => hotReset(m, o.device, [o.group, c.cdev]), 'EINVAL', 'H5.not-group');
  throwsErrno(() => hotReset(m, o.device, [o.group, 987]), 'EBADF', 'H5.fd');
  throwsErrno(() => hotReset(m, o.device, [o.group]), 'EINVAL', 'H8.group');
});

test('H22 [6.6+]: every dev_set member must be owned by the caller ctx — an unopened member of another group is not', () => {
  const m = eraKernel('m2g', '6.6+');
  const a = openBound(m, M0);
  const before = [m.pci.state(M0).resets, m.pci.state(M1).resets];
  throwsErrno(() => hotReset(m, a.cdev, []), 'EINVAL', 'H22');
  assert.deepEqual([m.pci.state(M0).resets, m.pci.state(M1).resets], before, 'nothing was reset');
  const b = m.sys.open('/dev/iommu');
  const other = openCdev(m, M1);
  assert.equal(bind(m, other, b), 1);
  throwsErrno(() => hotReset(m, a.cdev, []), 'EINVAL', 'H22'); // bound, but to another ctx
  m.sys.close(other);
  const mine = openCdev(m, M1);
  assert.equal(bind(m, mine, a.iommufd), 2);
  const now = [m.pci.state(M0).resets, m.pci.state(M1).resets];
  assert.equal(hotReset(m, a.cdev, []), 0);
  assert.deepEqual([m.pci.state(M0).resets, m.pci.state(M1).resets], [now[0]! + 1, now[1]! + 1]);
});

test('H22: an unopened member whose IOMMU group has a device bound to the ctx is owned (PPB from either function)', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F1);
  assert.equal(hotReset(k, a.cdev, []), 0);
  assert.equal(k.pci.state(F0).lastReset?.how, 'bus');
});

test('H23 [6.6+]: a member opened through its group with the caller ctx as iommufd counts as owned (devid > 0)', () => {
  const m = eraKernel('m2g', '6.6+');
  const a = openBound(m, M0);
  const g = m.sys.open(`/dev/vfio/${groupIdOf(m, M1)}`);
  setContainer(m, g, a.iommufd);
  const gd = getDeviceFd(m, g, M1);
  // The compat IOAS is object 2, 01:00.1's device object 3, its automatic HWPT 4.
  assert.deepEqual(ids(m, a.cdev), { flags: 3, ids: [1, 3] });
  assert.equal(hotReset(m, a.cdev, []), 0);
  // K7: the group-opened device itself stays in group mode.
  assert.deepEqual(ids(m, gd), { flags: 0, ids: [groupIdOf(m, M0), groupIdOf(m, M1)] });
  throwsErrno(() => hotReset(m, gd, []), 'EINVAL', 'H20');
  throwsErrno(() => hotReset(m, gd, [g]), 'EINVAL', 'H8.group'); // 01:00.0 is not in that group
});

test('H23: the same mix with another ctx on the group side is not owned', () => {
  const m = eraKernel('m2g', '6.6+');
  const a = openBound(m, M0);
  const b = m.sys.open('/dev/iommu');
  const g = m.sys.open(`/dev/vfio/${groupIdOf(m, M1)}`);
  setContainer(m, g, b);
  getDeviceFd(m, g, M1);
  throwsErrno(() => hotReset(m, a.cdev, []), 'EINVAL', 'H22');
});

test('H24 [6.6+]: no vma lock; per member ownership then memory trylock (6.1: all ownership checks first)', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F0);
  attach(k, a.cdev, ioasAlloc(k, a.iommufd));
  k.inject({ kind: 'hold-vma-lock', bdf: F1, held: true });
  assert.equal(hotReset(k, a.cdev, []), 0, 'a held vma lock does not matter');
  k.inject({ kind: 'hold-memory-lock', bdf: F1, held: true });
  throwsErrno(() => hotReset(k, a.cdev, []), 'EBUSY', 'H8.memory');
  k.inject({ kind: 'hold-memory-lock', bdf: F1, held: false });
  k.inject({ kind: 'hold-device-lock', bdf: F1, held: true });
  throwsErrno(() => hotReset(k, a.cdev, []), 'EAGAIN', 'H9.EAGAIN');

  // M-2G: 01:00.0's memory lock held and 01:00.1 not owned — the first member decides.
  for (const [era, errno, rule] of [
    ['6.6+', 'EBUSY', 'H8.memory'],
    ['6.1', 'EINVAL', 'H8.group'],
  ] as const) {
    const m = eraKernel('m2g', era);
    const o = openDevice(m, M0);
    m.inject({ kind: 'hold-memory-lock', bdf: M0, held: true });
    throwsErrno(() => hotReset(m, o.device, [o.group]), errno, rule);
  }
});
