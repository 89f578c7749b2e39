import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IOMMUFD, VFIO } from '../../src/uapi/ioctl.ts';
import { encodeBindIommufd, encodeIoasAlloc } from '../../src/uapi/vfio-structs.ts';
import {
  attach,
  bind,
  cdevIndex,
  destroy,
  detach,
  ioasAlloc,
  openBound,
  openCdev,
} from '../helpers/cdev-steps.ts';
import {
  deviceInfo,
  deviceView,
  eraKernel,
  getDeviceFd,
  groupIdOf,
  groupStatus,
  int32,
  openContainer,
  openDevice,
  setContainer,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const RP_NIC = '0000:01:00.0';
const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';

test('K1: vfio-dev/vfioN in sysfs from 6.1 (dev attribute only with the 6.6+ cdev); /dev/iommu and the node only in 6.6+', () => {
  for (const era of ['2013', '6.1', '6.6+'] as const) {
    const k = eraKernel('qemu-ppb', era);
    const dir = `bus/pci/devices/${F1}/vfio-dev`;
    if (era === '2013') {
      assert.equal(k.sysfs.kind(dir), null);
      throwsErrno(() => k.sys.open('/dev/vfio/devices/vfio0'), 'ENOENT', 'open.ENOENT');
      continue;
    }
    assert.deepEqual(k.sysfs.list(dir), ['vfio1'], 'indices in bind order from 0');
    assert.equal(k.sysfs.kind(`${dir}/vfio1/dev`), era === '6.6+' ? 'file' : null);
    assert.equal(k.sysfs.kind('class/vfio-dev/vfio1'), 'link');
    if (era === '6.1') {
      throwsErrno(() => k.sys.open('/dev/vfio/devices/vfio1'), 'ENOENT', 'open.ENOENT');
      throwsErrno(() => k.sys.open('/dev/iommu'), 'ENOENT', 'open.ENOENT');
    } else {
      assert.ok(openCdev(k, F1) >= 3);
      throwsErrno(() => k.sys.open('/dev/vfio/devices/vfio7'), 'ENOENT', 'open.ENOENT');
    }
  }
});

test('K1: the index is the lowest free at vfio-pci bind; unbinding removes the entry and frees the index', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F0);
  assert.equal(k.sysfs.kind(`bus/pci/devices/${F0}/vfio-dev`), null);
  assert.equal(k.sysfs.kind('class/vfio-dev/vfio0'), null);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', F0);
  assert.equal(cdevIndex(k, F0), 0);
});

test('K1/D1: an open cdev fd, bound or not, holds the registration: vfio-pci unbind waits (EBUSY here)', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const d = openCdev(k, RP_NIC);
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', RP_NIC), 'EBUSY', 'D1');
  k.sys.close(d);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', RP_NIC);
});

test('K2: before a bind every ioctl but BIND_IOMMUFD fails EINVAL, even unknown ones and ATTACH', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const d = openCdev(k, RP_NIC);
  throwsErrno(() => deviceInfo(k, d), 'EINVAL', 'K2');
  throwsErrno(() => k.sys.ioctl(d, VFIO.DEVICE_RESET), 'EINVAL', 'K2');
  throwsErrno(() => k.sys.ioctl(d, 0x3b63), 'EINVAL', 'K2');
  throwsErrno(() => attach(k, d, 1), 'EINVAL', 'K2');
  const i = k.sys.open('/dev/iommu');
  assert.equal(bind(k, d, i), 1);
  assert.equal(deviceInfo(k, d).flags, 3);
  throwsErrno(() => k.sys.ioctl(d, 0x3b63), 'ENOTTY', 'D4');
});

test('K3: checks in kernel order — copy, args, group fd, group open (EBUSY), bound, iommufd fd, open elsewhere', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const i = k.sys.open('/dev/iommu');
  const nul = k.sys.open('/dev/null');
  const d = openCdev(k, RP_NIC);
  throwsErrno(() => k.sys.ioctl(d, VFIO.DEVICE_BIND_IOMMUFD, new Uint8Array(12)), 'EFAULT', 'copy_from_user');
  throwsErrno(() => bind(k, d, i, { argsz: 12 }), 'EINVAL', 'K3.args');
  throwsErrno(() => bind(k, d, -1), 'EINVAL', 'K3.args');
  throwsErrno(() => bind(k, d, i, { flags: 1 }), 'EINVAL', 'K3.args');
  // The argument checks come before the group check: a bad argsz wins over an open group.
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, RP_NIC)}`);
  throwsErrno(() => bind(k, d, i, { argsz: 8 }), 'EINVAL', 'K3.args');
  throwsErrno(() => bind(k, d, i), 'EBUSY', 'K3.group-open');
  throwsErrno(() => bind(k, d, 987), 'EBUSY', 'K3.group-open');
  k.sys.close(g);
  throwsErrno(() => bind(k, d, 987), 'EBADF', 'K3.fd');
  throwsErrno(() => bind(k, d, nul), 'EBADFD', 'K3.not-iommufd');
  assert.equal(deviceView(k, RP_NIC).openCount, 0, 'failed binds leave the device closed');
  assert.equal(k.vfioState().groups[0]!.cdevOpenCount, 0, 'and the group unblocked');
  assert.equal(bind(k, d, i), 1);
  throwsErrno(() => bind(k, d, nul), 'EINVAL', 'K3.bound');
  const d2 = openCdev(k, RP_NIC);
  throwsErrno(() => bind(k, d2, i), 'EINVAL', 'K3.opened');
  const v = deviceView(k, RP_NIC);
  assert.equal(v.cdevOpened, true);
  assert.deepEqual(v.iommufd, { ctx: 1, devid: 1, hwpt: null });
  assert.equal(v.resetWorks, true, 'the bind ran open_device (O1)');
});

test('K3: BIND_IOMMUFD on a group-obtained device fd — 6.6+ EINVAL after the argument checks; 6.1 ENOTTY (unknown)', () => {
  for (const era of ['6.1', '6.6+'] as const) {
    const k = eraKernel('qemu-rp', era);
    const o = openDevice(k, RP_NIC);
    const buf = encodeBindIommufd({ argsz: 16, flags: 0, iommufd: o.container, outDevid: 0 });
    if (era === '6.1')
      throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_BIND_IOMMUFD, buf), 'ENOTTY', 'D4');
    else {
      throwsErrno(() => bind(k, o.device, o.container, { flags: 4 }), 'EINVAL', 'K3.args');
      throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_BIND_IOMMUFD, buf), 'EINVAL', 'K3.group-fd');
      throwsErrno(() => attach(k, o.device, 1), 'ENOTTY', 'D4');
    }
  }
});

test('K3/G2: a bound cdev blocks open of the group node (EBUSY, before the one-opener check); closing unblocks', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F1);
  const path = `/dev/vfio/${groupIdOf(k, F0)}`;
  throwsErrno(() => k.sys.open(path), 'EBUSY', 'G2.cdev');
  k.sys.close(a.cdev);
  k.sys.close(k.sys.open(path));
});

test('K4: devices of one IOMMU group bind to the same ctx; a second ctx, a container or a host driver → EPERM', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F0);
  const b = k.sys.open('/dev/iommu');
  const d1 = openCdev(k, F1);
  throwsErrno(() => bind(k, d1, b), 'EPERM', 'K4');
  assert.equal(bind(k, d1, a.iommufd), 2, 'same ctx: next id');
  k.sys.close(d1);
  k.sys.close(a.cdev);
  // A host DMA driver in the group makes every bind EPERM (and vice versa: EBUSY for the driver).
  const r = eraKernel('qemu-ppb', '6.6+');
  r.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  r.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'e1000');
  r.sys.writeSysfs('bus/pci/drivers_probe', F1);
  throwsErrno(() => openBound(r, F0), 'EPERM', 'K4');
  const s = eraKernel('qemu-ppb', '6.6+');
  const o = openBound(s, F0);
  s.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  s.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'e1000');
  s.sys.writeSysfs('bus/pci/drivers_probe', F1); // the probe fails EBUSY (bind.dma-owned), only logged
  assert.equal(s.sysfs.kind(`bus/pci/devices/${F1}/driver`), null);
  assert.ok(s.log.dmesg().some((l) => l.includes('e1000: probe failed with error EBUSY')));
  s.sys.close(o.cdev);
  s.sys.writeSysfs('bus/pci/drivers_probe', F1);
  assert.equal(s.sysfs.kind(`bus/pci/devices/${F1}/driver`), 'link');
});

test('K5: ATTACH to an IOAS writes back an automatic HWPT (a new object); a group shares it; DETACH drops it', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F0);
  const ioas = ioasAlloc(k, a.iommufd);
  assert.equal(ioas, 2);
  throwsErrno(() => attach(k, a.cdev, 99), 'ENOENT', 'K5.no-pt');
  throwsErrno(() => attach(k, a.cdev, a.devid), 'EINVAL', 'K5.not-pt');
  throwsErrno(() => attach(k, a.cdev, ioas, { argsz: 8 }), 'EINVAL', 'K5.args');
  throwsErrno(() => attach(k, a.cdev, ioas, { flags: 1 }), 'EINVAL', 'K5.args');
  const hwpt = attach(k, a.cdev, ioas);
  assert.equal(hwpt, 3);
  assert.equal(attach(k, a.cdev, ioas), 3, 'again: the same domain');
  const d1 = openCdev(k, F1);
  assert.equal(bind(k, d1, a.iommufd), 4);
  assert.equal(attach(k, d1, ioas), 3, 'the group-mate finds the same automatic HWPT');
  // Replace: 02:01.1 moves to a second IOAS and takes its whole group along; HWPT 3 goes.
  const ioas2 = ioasAlloc(k, a.iommufd);
  assert.equal(ioas2, 5);
  assert.equal(attach(k, d1, ioas2), 6);
  assert.equal(deviceView(k, F0).iommufd?.hwpt, 6);
  // Detached, 02:01.0 cannot attach elsewhere while its group-mate stays on HWPT 6.
  assert.equal(detach(k, a.cdev), 0);
  assert.equal(detach(k, a.cdev), 0, 'detaching a detached device is a no-op');
  throwsErrno(() => attach(k, a.cdev, ioas), 'EINVAL', 'K5.group-pt');
  assert.equal(attach(k, a.cdev, 6), 6, "the group's HWPT by id");
  // IOMMU_DESTROY: objects in use are busy; unknown ids ENOENT.
  throwsErrno(() => destroy(k, a.iommufd, ioas2), 'EBUSY', 'DESTROY.EBUSY');
  throwsErrno(() => destroy(k, a.iommufd, 6), 'EBUSY', 'DESTROY.EBUSY');
  throwsErrno(() => destroy(k, a.iommufd, a.devid), 'EBUSY', 'DESTROY.EBUSY');
  throwsErrno(() => destroy(k, a.iommufd, 99), 'ENOENT', 'DESTROY.ENOENT');
  detach(k, a.cdev);
  detach(k, d1);
  assert.equal(destroy(k, a.iommufd, ioas2), 0, 'the automatic HWPT went with its last device');
  assert.equal(destroy(k, a.iommufd, ioas), 0);
  assert.equal(ioasAlloc(k, a.iommufd), 2, 'ids: lowest free from 1');
});

test('iommufd: ids from 1; IOAS_ALLOC flags → EOPNOTSUPP; size below minimum → EINVAL; non-zero tail → E2BIG; others ENOTTY', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const i = k.sys.open('/dev/iommu');
  assert.equal(ioasAlloc(k, i), 1);
  throwsErrno(() => ioasAlloc(k, i, { flags: 1 }), 'EOPNOTSUPP', 'IOAS_ALLOC.flags');
  throwsErrno(() => ioasAlloc(k, i, { size: 8 }), 'EINVAL', 'iommufd.size');
  const big = new Uint8Array(16);
  big.set(encodeIoasAlloc({ size: 16, flags: 0, outIoasId: 0 }));
  assert.equal(k.sys.ioctl(i, IOMMUFD.IOAS_ALLOC, big), 0, 'a zero tail is accepted');
  big[15] = 1;
  throwsErrno(() => k.sys.ioctl(i, IOMMUFD.IOAS_ALLOC, big), 'E2BIG', 'iommufd.E2BIG');
  throwsErrno(() => k.sys.ioctl(i, IOMMUFD.IOAS_ALLOC, new Uint8Array(2)), 'EFAULT', 'copy_from_user');
  throwsErrno(
    () => k.sys.ioctl(i, IOMMUFD.IOAS_ALLOC | (12 << 16), new Uint8Array(12)),
    'ENOTTY',
    'iommufd.ENOTTY',
  );
  throwsErrno(() => k.sys.ioctl(i, 0x3b82, new Uint8Array(32)), 'ENOTTY', 'iommufd.unmodelled');
  throwsErrno(() => k.sys.ioctl(i, VFIO.GET_API_VERSION), 'ENOTTY', 'iommufd.unmodelled');
  assert.equal(k.vfioState().fds.find((f) => f.fd === i)?.kind, 'iommufd');
});

test('K6: closing the bound cdev runs the close-time reset, unbinds, clears cdev_opened and unblocks the group', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const a = openBound(k, F0);
  attach(k, a.cdev, ioasAlloc(k, a.iommufd));
  const before = k.pci.state(F1).resets;
  k.sys.close(a.cdev);
  assert.equal(k.pci.state(F1).resets, before + 1, 'O4: the dev_set bus reset at the last close');
  const v = deviceView(k, F0);
  assert.equal(v.openCount, 0);
  assert.equal(v.cdevOpened, false);
  assert.equal(v.iommufd, null);
  assert.equal(k.vfioState().groups[0]!.cdevOpenCount, 0);
  assert.equal(destroy(k, a.iommufd, 2), 0, 'no HWPT is left on the IOAS');
  // The device can be bound again, to another ctx even.
  const b = k.sys.open('/dev/iommu');
  assert.equal(bind(k, openCdev(k, F0), b), 1);
});

test('K6: a bound device keeps its iommufd alive after the iommufd fd is closed (the bind holds the file)', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const a = openBound(k, RP_NIC);
  k.sys.close(a.iommufd);
  assert.deepEqual(deviceView(k, RP_NIC).iommufd, { ctx: 1, devid: 1, hwpt: null });
  k.sys.close(a.cdev);
  assert.equal(deviceView(k, RP_NIC).iommufd, null);
  assert.equal(k.vfioState().fds.length, 0);
});

test('K7: SET_CONTAINER takes an iommufd (6.6+): group mode with a compat IOAS, no DMA claim until GET_DEVICE_FD', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  const i = k.sys.open('/dev/iommu');
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, F0)}`);
  setContainer(k, g, i);
  assert.equal(groupStatus(k, g), 3, 'VIABLE|CONTAINER_SET');
  throwsErrno(() => setContainer(k, g, openContainer(k)), 'EINVAL', 'G4.has-container');
  const d = getDeviceFd(k, g, F0);
  // The compat IOAS is object 1, the device 2, the automatic HWPT of the compat attach 3.
  assert.deepEqual(deviceView(k, F0).iommufd, { ctx: 1, devid: 2, hwpt: 3 });
  assert.equal(deviceView(k, F0).cdevOpened, false, 'group mode: cdev_opened stays false');
  const d2 = getDeviceFd(k, g, F0);
  assert.equal(deviceView(k, F0).openCount, 2, 'a second open neither binds nor attaches again');
  k.sys.close(d2);
  // UNSET_CONTAINER lets the iommufd go even with a device fd open (the device stays bound).
  assert.equal(k.sys.ioctl(g, VFIO.GROUP_UNSET_CONTAINER), 0);
  assert.equal(deviceView(k, F0).iommufd?.devid, 2);
  throwsErrno(() => getDeviceFd(k, g, F1), 'EINVAL', 'G7.no-container');
  k.sys.close(d);
  assert.equal(deviceView(k, F0).iommufd, null, 'the last close unbinds');
  k.sys.close(g);
});

test('K7: a host DMA driver in the group — SET_CONTAINER(iommufd) succeeds, GET_DEVICE_FD fails EPERM', () => {
  const k = eraKernel('qemu-ppb', '6.6+');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'e1000');
  k.sys.writeSysfs('bus/pci/drivers_probe', F1);
  const i = k.sys.open('/dev/iommu');
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, F0)}`);
  assert.equal(groupStatus(k, g), 0, 'not viable');
  setContainer(k, g, i);
  assert.equal(groupStatus(k, g), 3, 'with an iommufd the status says VIABLE|CONTAINER_SET anyway');
  throwsErrno(() => getDeviceFd(k, g, F0), 'EPERM', 'K4');
  assert.equal(deviceView(k, F0).openCount, 0);
});

test('K7: the compat IOAS destroyed → GET_DEVICE_FD ENODEV and the device is closed again; [6.1] an iommufd is no container', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const i = k.sys.open('/dev/iommu');
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, RP_NIC)}`);
  setContainer(k, g, i);
  assert.equal(destroy(k, i, 1), 0);
  throwsErrno(() => getDeviceFd(k, g, RP_NIC), 'ENODEV', 'K7.no-compat-ioas');
  assert.equal(deviceView(k, RP_NIC).openCount, 0);
  assert.equal(deviceView(k, RP_NIC).iommufd, null);
  const old = eraKernel('qemu-rp', '6.1');
  const og = old.sys.open(`/dev/vfio/${groupIdOf(old, RP_NIC)}`);
  throwsErrno(() => old.sys.ioctl(og, VFIO.GROUP_SET_CONTAINER, int32(og)), 'EINVAL', 'G4.not-container');
});
