import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimKernel } from '../../src/sim/kernel.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { encodeCString } from '../../src/uapi/vfio-structs.ts';
import { endpoint, host, hostBridge, rootPort } from '../helpers/builders.ts';
import {
  eraKernel,
  getDeviceFd,
  groupIdOf,
  groupStatus,
  hotResetInfoCall,
  int32,
  kernel,
  openContainer,
  openDevice,
  setContainer,
  setIommu,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const F0 = '0000:02:01.0';
const F1 = '0000:02:01.1';
const G = (k: SimKernel) => `/dev/vfio/${groupIdOf(k, F0)}`;

/** PPB with 02:01.1 moved to the host e1000 driver (driver_override, unbind, drivers_probe). */
function ppbWithHostDriver(era: '2013' | '6.1') {
  const k = eraKernel('qemu-ppb', era);
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'e1000\n');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  k.sys.writeSysfs('bus/pci/drivers_probe', F1);
  assert.equal(k.host.state(F1)!.driver, 'e1000');
  return k;
}

test('G1: /dev/vfio/N exists iff a member of IOMMU group N is bound to vfio-pci', () => {
  const k = kernel('qemu-ppb');
  const root = groupIdOf(k, '0000:00:02.0'); // the root port, on pcieport
  throwsErrno(() => k.sys.open(`/dev/vfio/${root}`), 'ENOENT', 'G1');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F0);
  k.sys.close(k.sys.open(G(k))); // 02:01.1 still holds the node
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  throwsErrno(() => k.sys.open(G(k)), 'ENOENT', 'G1');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/bind', F1); // driver_override is still vfio-pci
  k.sys.close(k.sys.open(G(k)));
});

test('G2 (scenario 1): a second open of a group fails with EBUSY; after closing the first it opens again', () => {
  const k = kernel('qemu-ppb');
  const a = k.sys.open(G(k));
  throwsErrno(() => k.sys.open(G(k)), 'EBUSY', 'G2');
  k.sys.close(a);
  k.sys.close(k.sys.open(G(k)));
});

test('G2/G6: a group whose fd is closed stays busy while its device fds are open (6.1: they pin the file)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  k.sys.close(o.group);
  throwsErrno(() => k.sys.open(G(k)), 'EBUSY', 'G2');
  k.sys.close(o.device);
  k.sys.close(k.sys.open(G(k)));
});

test('G2 [2013]: the group fd is released at once, but reopening fails while device fds keep it attached', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const o = openDevice(k, F0);
  k.sys.close(o.group);
  assert.equal(k.vfioState().groups[0]!.open, false);
  throwsErrno(() => k.sys.open(G(k)), 'EBUSY', 'G2.2013');
  k.sys.close(o.device); // last container user: the group leaves the container
  assert.equal(k.vfioState().groups[0]!.container, null);
  k.sys.close(k.sys.open(G(k)));
});

test('G3 (scenario 2): GET_STATUS with argsz 4 fails EINVAL; a viable group without container reads 1', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(G(k));
  throwsErrno(() => groupStatus(k, g, 4), 'EINVAL', 'G3.argsz');
  assert.equal(groupStatus(k, g), 1);
  setContainer(k, g, openContainer(k));
  assert.equal(groupStatus(k, g), 3);
});

test('G3/G4 (scenario 3): PPB with 02:01.1 on e1000 reads 0 and SET_CONTAINER fails with EPERM', () => {
  const k = ppbWithHostDriver('6.1');
  const g = k.sys.open(G(k));
  assert.equal(groupStatus(k, g), 0);
  throwsErrno(() => setContainer(k, g, openContainer(k)), 'EPERM', 'G4.dma-owned');
});

test('G3/G7 [2013] (scenario 3): SET_CONTAINER works on a non-viable group, GET_DEVICE_FD fails EINVAL', () => {
  const k = ppbWithHostDriver('2013');
  const g = k.sys.open(G(k));
  assert.equal(groupStatus(k, g), 0);
  const c = openContainer(k);
  setContainer(k, g, c);
  setIommu(k, c);
  assert.equal(groupStatus(k, g), 2, 'CONTAINER_SET without VIABLE exists only in 2013');
  throwsErrno(() => getDeviceFd(k, g, F0), 'EINVAL', 'G7.not-viable');
});

test('G3: pci-stub, pcieport and unbound members do not affect viability', () => {
  const k = kernel('qemu-ppb');
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'pci-stub');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  k.sys.writeSysfs('bus/pci/drivers/pci-stub/bind', F1);
  const g = k.sys.open(G(k));
  assert.equal(groupStatus(k, g), 1);
  k.sys.writeSysfs('bus/pci/drivers/pci-stub/unbind', F1);
  assert.equal(groupStatus(k, g), 1);
});

test('G3/G4: after the last vfio device is unbound an open group fd is dead: GET_STATUS and SET_CONTAINER ENODEV', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(G(k));
  const c = openContainer(k);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F0);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  throwsErrno(() => groupStatus(k, g), 'ENODEV', 'G3.gone');
  throwsErrno(() => setContainer(k, g, c), 'ENODEV', 'G4.gone');
  throwsErrno(() => k.sys.open(G(k)), 'ENOENT', 'G1');
  assert.deepEqual(
    k.vfioState().groups.map((x) => [x.id, x.node, x.gone]),
    [[3, false, true]],
  );
});

test('G4 (scenario 9): SET_CONTAINER with /dev/null EINVAL (6.1), EBADFD (6.6+); fd -1 EBADF; [2013] -1 EINVAL', () => {
  for (const [era, nullErr, nullRule] of [
    ['6.1', 'EINVAL', 'G4.not-container'],
    ['6.6+', 'EBADFD', 'G4.not-container-6.6'],
    ['2013', 'EINVAL', 'G4.not-container'],
  ] as const) {
    const k = eraKernel('qemu-ppb', era);
    const g = k.sys.open(G(k));
    const n = k.sys.open('/dev/null');
    throwsErrno(() => setContainer(k, g, n), nullErr, nullRule);
    if (era === '2013') throwsErrno(() => setContainer(k, g, -1), 'EINVAL', 'G4.fd-negative');
    else throwsErrno(() => setContainer(k, g, -1), 'EBADF', 'G4.fd');
    throwsErrno(() => setContainer(k, g, 99), 'EBADF', 'G4.fd');
  }
});

test('G4: a group fd or a device fd is not a container (EINVAL); a second SET_CONTAINER fails EINVAL', () => {
  const k = kernel('m2g');
  const o = openDevice(k, '0000:01:00.0');
  const g2 = k.sys.open(`/dev/vfio/${groupIdOf(k, '0000:01:00.1')}`);
  throwsErrno(() => setContainer(k, g2, o.group), 'EINVAL', 'G4.not-container');
  throwsErrno(() => setContainer(k, g2, o.device), 'EINVAL', 'G4.not-container');
  throwsErrno(() => setContainer(k, o.group, o.container), 'EINVAL', 'G4.has-container');
  throwsErrno(() => setContainer(k, o.group, openContainer(k)), 'EINVAL', 'G4.has-container');
});

test('G4 [2013]: a group with a container fails EINVAL before the fd is even looked at', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const g = k.sys.open(G(k));
  setContainer(k, g, openContainer(k));
  throwsErrno(() => setContainer(k, g, 99), 'EINVAL', 'G4.has-container');
});

test('G5 (scenario 6): UNSET_CONTAINER with a device fd open EBUSY; after closing it 0; again EINVAL', () => {
  for (const era of ['2013', '6.1'] as const) {
    const k = eraKernel('qemu-ppb', era);
    const o = openDevice(k, F0);
    throwsErrno(() => k.sys.ioctl(o.group, VFIO.GROUP_UNSET_CONTAINER), 'EBUSY', 'G5.busy');
    k.sys.close(o.device);
    assert.equal(k.sys.ioctl(o.group, VFIO.GROUP_UNSET_CONTAINER), 0);
    throwsErrno(() => k.sys.ioctl(o.group, VFIO.GROUP_UNSET_CONTAINER), 'EINVAL', 'G5.no-container');
  }
});

test('G6: closing the group fd first keeps the device working and the group attached until the device closes', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  k.sys.close(o.group);
  assert.equal(hotResetInfoCall(k, o.device, 28).info.count, 2, 'the device fd still works');
  let s = k.vfioState();
  assert.deepEqual([s.groups[0]!.open, s.groups[0]!.container, s.groups[0]!.containerUsers], [true, 1, 2]);
  k.sys.close(o.device);
  s = k.vfioState();
  assert.deepEqual([s.groups[0]!.open, s.groups[0]!.container], [false, null]);
  assert.equal(s.containers[0]!.iommu, null, 'C6: the container lost its last group');
});

test('G7 (scenario 4): GET_DEVICE_FD before SET_CONTAINER EINVAL, before SET_IOMMU EINVAL, after it an fd', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(G(k));
  throwsErrno(() => getDeviceFd(k, g, F0), 'EINVAL', 'G7.no-container');
  const c = openContainer(k);
  setContainer(k, g, c);
  throwsErrno(() => getDeviceFd(k, g, F0), 'EINVAL', 'G7.no-container');
  setIommu(k, c);
  assert.ok(getDeviceFd(k, g, F0) >= 3);
});

test('G7 (scenario 7): a name that is not in the group fails with ENODEV (checked before the container in 6.1)', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(G(k));
  throwsErrno(() => getDeviceFd(k, g, '0000:ff:1f.7'), 'ENODEV', 'G7.no-device');
  const k2 = kernel('qemu-ppb');
  const d = openDevice(k2, F0);
  throwsErrno(() => getDeviceFd(k2, d.group, '0000:ff:1f.7'), 'ENODEV', 'G7.no-device');
  throwsErrno(() => getDeviceFd(k2, d.group, '02:01.0'), 'ENODEV', 'G7.no-device');
  throwsErrno(() => getDeviceFd(k2, d.group, `${F0}x`), 'ENODEV', 'G7.no-device');
});

test('G7 [2013]: the container and viability are checked before the name; names must match exactly', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const g = k.sys.open(G(k));
  throwsErrno(() => getDeviceFd(k, g, '0000:ff:1f.7'), 'EINVAL', 'G7.no-container');
  const c = openContainer(k);
  setContainer(k, g, c);
  setIommu(k, c);
  throwsErrno(
    () => getDeviceFd(k, g, `${F0} vf_token=00000000-0000-0000-0000-000000000000`),
    'ENODEV',
    'G7.no-device',
  );
  assert.ok(getDeviceFd(k, g, F0) >= 3);
});

test('G7: options after the name — unknown or malformed EINVAL; a VF token for a plain device EINVAL', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, F0);
  throwsErrno(() => getDeviceFd(k, o.group, `${F1} foo=1`), 'EINVAL', 'G7.option');
  throwsErrno(() => getDeviceFd(k, o.group, `${F1} vf_token=not-a-uuid`), 'EINVAL', 'G7.option');
  const token = 'bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3';
  throwsErrno(() => getDeviceFd(k, o.group, `${F1} vf_token=${token}`), 'EINVAL', 'G7.vf-token');
  throwsErrno(
    () => getDeviceFd(k, o.group, `${F1} vf_token=${token} vf_token=${token}`),
    'EINVAL',
    'G7.option',
  );
  assert.ok(getDeviceFd(k, o.group, `${F1}  `) >= 3, 'trailing spaces are fine');
});

test('G7: an SR-IOV PF without VFs in use accepts a VF token (it sets the token)', () => {
  const pf = endpoint('01:00.0', {
    driver: 'vfio-pci',
    driverOverride: 'vfio-pci',
    sriov: { totalVfs: 4, numVfs: 0, vfDeviceId: 0x10ca },
  });
  const k = new SimKernel(host([hostBridge(), rootPort('00:02.0', 1), pf]));
  const o = openDevice(k, '0000:01:00.0');
  const d2 = getDeviceFd(k, o.group, '0000:01:00.0 vf_token=bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3');
  assert.ok(d2 > o.device);
});

test('G7 (scenario 10): GET_DEVICE_FD twice gives two fds; only the last close runs the close-time reset', () => {
  const k = kernel('qemu-rp');
  const bdf = '0000:01:00.0';
  const o = openDevice(k, bdf);
  const resetsAfterOpen = k.pci.state(bdf).resets;
  const d2 = getDeviceFd(k, o.group, bdf);
  assert.notEqual(d2, o.device);
  assert.equal(k.pci.state(bdf).resets, resetsAfterOpen, 'O2: the second open does not reset');
  for (const fd of [o.device, d2]) assert.equal(k.sys.ioctl(fd, VFIO.DEVICE_RESET), 0);
  const before = k.pci.state(bdf).resets;
  k.sys.close(o.device);
  assert.equal(k.pci.state(bdf).resets, before, 'still open through the second fd');
  assert.equal(k.vfioState().devices[0]!.openCount, 1);
  k.sys.close(d2);
  assert.equal(k.pci.state(bdf).resets, before + 1, 'O3: the last close resets');
});

test('G8 (scenario 8): an unknown ioctl on a group fd fails with ENOTTY', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(G(k));
  throwsErrno(() => k.sys.ioctl(g, 0x3b00 | 99), 'ENOTTY', 'G8');
  throwsErrno(() => k.sys.ioctl(g, VFIO.DEVICE_RESET), 'ENOTTY', 'G8');
  throwsErrno(() => k.sys.ioctl(g, VFIO.GROUP_GET_DEVICE_FD, encodeCString('')), 'ENODEV', 'G7.no-device');
});

test('G4/§1.2: SET_CONTAINER makes VFIO own the group DMA; releasing the group gives it back', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(G(k));
  const c = openContainer(k);
  k.sys.ioctl(g, VFIO.GROUP_SET_CONTAINER, int32(c));
  k.sys.writeSysfs(`bus/pci/devices/${F1}/driver_override`, 'e1000');
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', F1);
  throwsErrno(() => k.sys.writeSysfs('bus/pci/drivers/e1000/bind', F1), 'ENOENT', 'sysfs.ENOENT');
  k.sys.writeSysfs('bus/pci/drivers_probe', F1); // the probe is refused (EBUSY) and only logged
  assert.equal(k.host.state(F1)!.driver, null);
  k.sys.close(g);
  k.sys.writeSysfs('bus/pci/drivers_probe', F1);
  assert.equal(k.host.state(F1)!.driver, 'e1000');
});
