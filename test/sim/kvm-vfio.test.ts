import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KVM, VFIO } from '../../src/uapi/ioctl.ts';
import { decodeKvmCreateDevice, encodeKvmCreateDevice } from '../../src/uapi/vfio-structs.ts';
import { kvmFile, kvmVfio, openBound, openCdev } from '../helpers/cdev-steps.ts';
import {
  eraKernel,
  getDeviceFd,
  groupIdOf,
  groupStatus,
  openContainer,
  openDevice,
  setContainer,
  setIommu,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const RP_NIC = '0000:01:00.0';
const M0 = '0000:01:00.0';
const M1 = '0000:01:00.1';
const ERAS = ['2013', '6.1', '6.6+'] as const;

const group = (k: ReturnType<typeof eraKernel>, bdf: string) =>
  k.vfioState().groups.find((g) => g.id === groupIdOf(k, bdf))!;

test('KVM: /dev/kvm in every era; CREATE_VM type 0; one KVM-VFIO device per VM; TEST creates nothing; other types ENODEV', () => {
  for (const era of ERAS) {
    const k = eraKernel('qemu-rp', era);
    const kvm = k.sys.open('/dev/kvm');
    throwsErrno(() => k.sys.ioctl(kvm, KVM.CREATE_VM, 7), 'EINVAL', 'kvm.vm-type');
    // 0xae00 is KVM_GET_API_VERSION (12, no argument); 0xaeff is no /dev/kvm ioctl.
    assert.equal(k.sys.ioctl(kvm, KVM.GET_API_VERSION), KVM.API_VERSION);
    throwsErrno(() => k.sys.ioctl(kvm, 0xaeff), 'EINVAL', 'kvm.EINVAL');
    const vm = k.sys.ioctl(kvm, KVM.CREATE_VM, 0);
    const create = (type: number, flags = 0) => {
      const b = encodeKvmCreateDevice({ type, fd: 0, flags });
      k.sys.ioctl(vm, KVM.CREATE_DEVICE, b);
      return decodeKvmCreateDevice(b).fd;
    };
    throwsErrno(() => create(1), 'ENODEV', 'kvm.no-type');
    assert.equal(create(KVM.DEV_TYPE_VFIO, 1), 0, 'KVM_CREATE_DEVICE_TEST: no fd');
    const dev = create(KVM.DEV_TYPE_VFIO);
    assert.equal(k.vfioState().fds.find((f) => f.fd === dev)?.kind, 'kvm-device');
    throwsErrno(() => create(KVM.DEV_TYPE_VFIO), 'EBUSY', 'kvm.vfio-exists');
    throwsErrno(() => k.sys.ioctl(vm, KVM.SET_DEVICE_ATTR, new Uint8Array(24)), 'ENOTTY', 'kvm.ENOTTY');
    throwsErrno(() => k.sys.ioctl(dev, KVM.CREATE_DEVICE, new Uint8Array(12)), 'ENOTTY', 'kvm.ENOTTY');
    throwsErrno(() => k.sys.ioctl(dev, KVM.SET_DEVICE_ATTR, new Uint8Array(8)), 'EFAULT', 'copy_from_user');
    // 6.6+: .release at the device fd's close unlinks it, so a new one can be created; 2013/6.1: not
    // until the VM goes.
    k.sys.close(dev);
    if (era === '6.6+') assert.ok(create(KVM.DEV_TYPE_VFIO) > 0);
    else throwsErrno(() => create(KVM.DEV_TYPE_VFIO), 'EBUSY', 'kvm.vfio-exists');
  }
});

test('E1 [2013]: ADD goes through the external-user checks — not a group, no container, no IOMMU driver, not viable → EINVAL', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const kv = kvmVfio(k);
  const c = openContainer(k);
  throwsErrno(() => kvmFile(k, kv.dev, 'add', c), 'EINVAL', 'E1.not-group');
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, '0000:02:01.0')}`);
  throwsErrno(() => kvmFile(k, kv.dev, 'add', g), 'EINVAL', 'E1.no-container');
  setContainer(k, g, c);
  throwsErrno(() => kvmFile(k, kv.dev, 'add', g), 'EINVAL', 'E1.no-iommu');
  setIommu(k, c);
  k.sys.writeSysfs('bus/pci/drivers/vfio-pci/unbind', '0000:02:01.1');
  k.sys.writeSysfs('bus/pci/devices/0000:02:01.1/driver_override', 'e1000');
  k.sys.writeSysfs('bus/pci/drivers_probe', '0000:02:01.1');
  throwsErrno(() => kvmFile(k, kv.dev, 'add', g), 'EINVAL', 'E1.not-viable');
  assert.equal(group(k, '0000:02:01.0').containerUsers, 1, 'failed checks take no container user');
});

test('E2 [2013]: the KVM-VFIO device is a container user — UNSET EBUSY, close defers the detach, re-open EBUSY, DEL releases', () => {
  const k = eraKernel('qemu-rp', '2013');
  const o = openDevice(k, RP_NIC);
  const kv = kvmVfio(k);
  assert.equal(kvmFile(k, kv.dev, 'add', o.group), 0);
  assert.equal(group(k, RP_NIC).containerUsers, 3, 'container + device fd + external user');
  k.sys.close(o.device);
  throwsErrno(() => k.sys.ioctl(o.group, VFIO.GROUP_UNSET_CONTAINER), 'EBUSY', 'E2');
  k.sys.close(o.group);
  assert.equal(group(k, RP_NIC).container, 1, 'still attached after every VFIO fd closed');
  throwsErrno(() => k.sys.open(`/dev/vfio/${groupIdOf(k, RP_NIC)}`), 'EBUSY', 'G2.2013');
  // DEL needs an fd of the group: none can be opened. The device's teardown (VM gone) puts it.
  k.sys.close(kv.dev);
  assert.equal(group(k, RP_NIC).container, 1, '2013: the device lives until the VM goes');
  k.sys.close(kv.vm);
  assert.equal(group(k, RP_NIC).container, null);
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, RP_NIC)}`);
  assert.equal(groupStatus(k, g), 1);
});

test('E2/E3 [2013]: DEL puts the external user; DEL of a group never added ENOENT (after the external-user checks)', () => {
  const k = eraKernel('qemu-rp', '2013');
  const o = openDevice(k, RP_NIC);
  const kv = kvmVfio(k);
  throwsErrno(() => kvmFile(k, kv.dev, 'del', o.group), 'ENOENT', 'E3.not-added');
  assert.equal(group(k, RP_NIC).containerUsers, 2, 'the temporary external user was put');
  assert.equal(kvmFile(k, kv.dev, 'add', o.group), 0);
  throwsErrno(() => kvmFile(k, kv.dev, 'add', o.group), 'EEXIST', 'E3.exists');
  assert.equal(group(k, RP_NIC).containerUsers, 3);
  assert.equal(kvmFile(k, kv.dev, 'del', o.group), 0);
  assert.equal(group(k, RP_NIC).containerUsers, 2);
  k.sys.close(o.device);
  assert.equal(k.sys.ioctl(o.group, VFIO.GROUP_UNSET_CONTAINER), 0);
  const c = openContainer(k);
  throwsErrno(() => kvmFile(k, kv.dev, 'del', c), 'EINVAL', 'E1.not-group');
});

test('E3: every era — EBADF for an fd not open, ENXIO for another attribute group, an unknown attribute or SET_SPAPR_TCE (x86)', () => {
  for (const era of ERAS) {
    const k = eraKernel('qemu-rp', era);
    const o = openDevice(k, RP_NIC);
    const kv = kvmVfio(k);
    throwsErrno(() => kvmFile(k, kv.dev, 'add', 987), 'EBADF', 'E3.fd');
    throwsErrno(() => kvmFile(k, kv.dev, 'del', 987), 'EBADF', 'E3.fd');
    throwsErrno(() => kvmFile(k, kv.dev, 'add', o.group, 2), 'ENXIO', 'E3.attr');
    throwsErrno(() => kvmFile(k, kv.dev, 9, o.group), 'ENXIO', 'E3.attr');
    throwsErrno(() => kvmFile(k, kv.dev, 'spapr', o.group), 'ENXIO', 'E3.attr');
  }
});

test('E4 [5.19+]: file reference only — a group without container is taken, UNSET succeeds, the file outlives its fd', () => {
  for (const era of ['6.1', '6.6+'] as const) {
    const k = eraKernel('qemu-rp', era);
    const path = `/dev/vfio/${groupIdOf(k, RP_NIC)}`;
    const g = k.sys.open(path);
    const kv = kvmVfio(k);
    assert.equal(kvmFile(k, kv.dev, 'add', g), 0, 'no container needed');
    throwsErrno(() => kvmFile(k, kv.dev, 'add', g), 'EEXIST', 'E4.exists');
    const c = openContainer(k);
    throwsErrno(() => kvmFile(k, kv.dev, 'add', c), 'EINVAL', 'E4.invalid');
    throwsErrno(() => kvmFile(k, kv.dev, 'del', c), 'ENOENT', 'E3.not-added');
    setContainer(k, g, c);
    setIommu(k, c);
    assert.equal(group(k, RP_NIC).containerUsers, 1, 'KVM takes no container user');
    assert.equal(k.sys.ioctl(g, VFIO.GROUP_UNSET_CONTAINER), 0);
    k.sys.close(g);
    assert.equal(group(k, RP_NIC).open, true, 'KVM holds the group file');
    throwsErrno(() => k.sys.open(path), 'EBUSY', 'G2');
    const g2 = k.sys.ioctl(kv.kvm, KVM.CREATE_VM, 0);
    assert.ok(g2 > 0);
    k.sys.close(kv.dev);
    if (era === '6.1') {
      assert.equal(group(k, RP_NIC).open, true, '6.1: the device goes with the VM');
      k.sys.close(kv.vm);
    }
    assert.equal(group(k, RP_NIC).open, false);
    k.sys.close(k.sys.open(path));
  }
});

test('E4: 6.1 takes group files only; 6.6+ also device files — cdev (bound or not) and group-obtained', () => {
  const old = eraKernel('m2g', '6.1');
  const o = openDevice(old, M0);
  const okv = kvmVfio(old);
  throwsErrno(() => kvmFile(old, okv.dev, 'add', o.device), 'EINVAL', 'E4.invalid');

  const k = eraKernel('m2g', '6.6+');
  const kv = kvmVfio(k);
  const d0 = openCdev(k, M0);
  assert.equal(kvmFile(k, kv.dev, 'add', d0), 0, 'unbound cdev');
  const gd = openDevice(k, M1);
  assert.equal(kvmFile(k, kv.dev, 'add', gd.device), 0, 'group-obtained device fd');
  assert.equal(kvmFile(k, kv.dev, 'del', gd.device), 0);
  throwsErrno(() => kvmFile(k, kv.dev, 'del', gd.device), 'ENOENT', 'E3.not-added');
});

test('E4 [6.6+]: a bound cdev held by KVM stays open and bound after close(fd) until KVM lets go', () => {
  const k = eraKernel('qemu-rp', '6.6+');
  const a = openBound(k, RP_NIC);
  const kv = kvmVfio(k);
  assert.equal(kvmFile(k, kv.dev, 'add', a.cdev), 0);
  k.sys.close(a.cdev);
  const dev = () => k.vfioState().devices.find((d) => d.bdf === RP_NIC)!;
  assert.equal(dev().cdevOpened, true);
  throwsErrno(() => k.sys.open(`/dev/vfio/${groupIdOf(k, RP_NIC)}`), 'EBUSY', 'G2.cdev');
  k.sys.close(kv.dev);
  assert.equal(dev().cdevOpened, false);
  assert.equal(dev().openCount, 0);
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, RP_NIC)}`);
  const c = openContainer(k);
  setContainer(k, g, c);
  setIommu(k, c);
  assert.ok(getDeviceFd(k, g, RP_NIC) > 0);
});
