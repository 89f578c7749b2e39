import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KernelError } from '../../src/kernel/syscalls.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { SimDeadlockError } from '../../src/sim/pci-exec.ts';
import { RULES } from '../../src/sim/rules.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { isErrnoName } from '../../src/uapi/errno.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import {
  getDeviceFd,
  groupIdOf,
  kernel,
  openContainer,
  openDevice,
  setContainer,
  setIommu,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const PPB = '0000:02:01.0';

test('rules table: every rule names a known errno and a summary', () => {
  for (const [id, r] of Object.entries(RULES)) {
    assert.ok(isErrnoName(r.errno), `${id}: ${r.errno}`);
    assert.ok(r.summary.length > 10, id);
  }
});

test('fd: numbers start at 3 and the lowest free one is reused, like Linux', () => {
  const k = kernel('qemu-ppb');
  const a = k.sys.open('/dev/vfio/vfio');
  const b = k.sys.open('/dev/null');
  const c = k.sys.open('/dev/vfio/vfio');
  assert.deepEqual([a, b, c], [3, 4, 5]);
  k.sys.close(b);
  assert.equal(k.sys.open('/dev/null'), 4);
  assert.equal(k.sys.open('/dev/null'), 6);
});

test('fd: close and ioctl of an fd that is not open fail with EBADF', () => {
  const k = kernel('qemu-ppb');
  throwsErrno(() => k.sys.close(3), 'EBADF', 'fd');
  throwsErrno(() => k.sys.ioctl(42, VFIO.GET_API_VERSION), 'EBADF', 'fd');
  const c = k.sys.open('/dev/vfio/vfio');
  k.sys.close(c);
  throwsErrno(() => k.sys.close(c), 'EBADF', 'fd');
});

test('open: unknown device nodes fail with ENOENT; /dev/null is a plain file without ioctls', () => {
  const k = kernel('qemu-ppb');
  throwsErrno(() => k.sys.open('/dev/vfio/devices/vfio0'), 'ENOENT', 'open.ENOENT');
  throwsErrno(() => k.sys.open('/dev/iommu'), 'ENOENT', 'open.ENOENT');
  throwsErrno(() => k.sys.open('/dev/vfio/03'), 'ENOENT', 'open.ENOENT');
  const n = k.sys.open('/dev/null');
  throwsErrno(() => k.sys.ioctl(n, VFIO.GET_API_VERSION), 'ENOTTY', 'null.ENOTTY');
});

test('ioctl dispatch: the same number means different things on container and device fds (§2)', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, PPB);
  // 0x3B70 is VFIO_IOMMU_GET_INFO on a container and GET_PCI_HOT_RESET_INFO on a device.
  throwsErrno(
    () => k.sys.ioctl(o.container, VFIO.IOMMU_GET_INFO, new Uint8Array(8)),
    'ENOTTY',
    'C5.unmodelled',
  );
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, new Uint8Array(8)), 'EFAULT');
});

test('copy_from_user: a pointer argument that is a number or too short fails with EFAULT', () => {
  const k = kernel('qemu-ppb');
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, PPB)}`);
  throwsErrno(() => k.sys.ioctl(g, VFIO.GROUP_GET_STATUS, 8), 'EFAULT', 'copy_from_user');
  throwsErrno(() => k.sys.ioctl(g, VFIO.GROUP_GET_STATUS, new Uint8Array(4)), 'EFAULT', 'copy_from_user');
  throwsErrno(() => k.sys.ioctl(g, VFIO.GROUP_SET_CONTAINER, new Uint8Array(2)), 'EFAULT', 'copy_from_user');
  // strndup_user: no NUL inside the buffer.
  throwsErrno(
    () => k.sys.ioctl(g, VFIO.GROUP_GET_DEVICE_FD, new TextEncoder().encode(PPB)),
    'EFAULT',
    'copy_from_user',
  );
});

test('copy_to_user: argsz promising more room than the buffer has fails with EFAULT on write-back', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, PPB);
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, 24, true); // 6.1 copies back 20 bytes when argsz >= 20
  throwsErrno(() => k.sys.ioctl(o.device, VFIO.DEVICE_GET_INFO, b), 'EFAULT', 'copy_to_user');
});

test('every KernelError carries the rule that produced it', () => {
  const k = kernel('qemu-ppb');
  try {
    k.sys.open('/dev/vfio/99');
    assert.fail('expected ENOENT');
  } catch (e) {
    assert.ok(e instanceof KernelError);
    assert.equal(e.rule, 'G1');
    assert.match(e.message, /\[G1\]/);
  }
});

test('SimKernel: era, IOMMU and clock options reach the host and the PCI core', () => {
  const k = new SimKernel(loadTopologyFile('examples/qemu-ppb.yaml'), { era: '2013', iommu: true });
  assert.equal(k.era, '2013');
  assert.equal(k.pci.era, '2013');
  assert.equal(k.host.options.era, '2013');
  const off = new SimKernel(loadTopologyFile('examples/qemu-ppb.yaml'), { iommu: false });
  // S0: without an IOMMU vfio-pci cannot bind, so the boot probe leaves the functions unbound.
  assert.deepEqual(off.vfioState().devices, []);
  assert.equal(off.host.state(PPB)!.driver, null);
  assert.equal(off.sysfs.kind(`bus/pci/devices/${PPB}/driver`), null);
});

test('vfioState: groups, containers, devices with open count, reset state, dev_set and fds', () => {
  const k = kernel('qemu-ppb');
  const o = openDevice(k, PPB);
  const s = k.vfioState();
  assert.deepEqual(s.groups, [
    {
      id: 3,
      node: true,
      gone: false,
      open: true,
      container: 1,
      containerUsers: 2,
      statusFlags: 3,
      devices: [PPB, '0000:02:01.1'],
      iommufd: null,
      cdevOpenCount: 0,
    },
  ]);
  assert.deepEqual(s.containers, [{ id: 1, iommu: 'TYPE1v2', groups: [3], fds: [o.container] }]);
  const d = s.devices.find((x) => x.bdf === PPB)!;
  assert.equal(d.openCount, 1);
  assert.equal(d.resetWorks, false);
  assert.equal(d.devSet, 'bus:0000:02');
  assert.deepEqual(d.fds, [o.device]);
  assert.equal(s.devices.find((x) => x.bdf === '0000:02:01.1')!.resetWorks, null);
  assert.deepEqual(
    s.fds.map((f) => f.kind),
    ['container', 'group', 'device'],
  );
});

test('inject: memory and vma locks are VFIO faults; PCI faults pass through to the PCI core', () => {
  const k = kernel('qemu-ppb');
  k.inject({ kind: 'hold-memory-lock', bdf: PPB, held: true });
  k.inject({ kind: 'hold-vma-lock', bdf: '0000:02:01.1', held: true });
  k.inject({ kind: 'hold-device-lock', bdf: '0000:01:00.0', held: true });
  const s = k.vfioState();
  assert.equal(s.devices.find((d) => d.bdf === PPB)!.memoryLockHeld, true);
  assert.equal(s.devices.find((d) => d.bdf === '0000:02:01.1')!.vmaLockHeld, true);
  assert.equal(k.pci.state('0000:01:00.0').deviceLockHeld, true);
  assert.throws(
    () => k.inject({ kind: 'hold-memory-lock', bdf: '0000:01:00.0', held: true }),
    /not bound to vfio-pci/,
  );
});

test('a call that would sleep on a lock another thread holds throws SimDeadlockError (VFIO_DEVICE_RESET)', () => {
  const k = kernel('qemu-rp');
  const o = openDevice(k, '0000:01:00.0');
  k.inject({ kind: 'hold-memory-lock', bdf: '0000:01:00.0', held: true });
  assert.throws(() => k.sys.ioctl(o.device, VFIO.DEVICE_RESET), SimDeadlockError);
  k.inject({ kind: 'hold-memory-lock', bdf: '0000:01:00.0', held: false });
  assert.equal(k.sys.ioctl(o.device, VFIO.DEVICE_RESET), 0);
});

test('Appendix A recipe: the second group of a container needs no SET_IOMMU', () => {
  const k = kernel('m2g');
  const c = openContainer(k);
  const a = openDevice(k, '0000:01:00.0', undefined);
  const g2 = k.sys.open(`/dev/vfio/${groupIdOf(k, '0000:01:00.1')}`);
  setContainer(k, g2, a.container);
  throwsErrno(() => setIommu(k, a.container), 'EINVAL', 'C4.iommu-set');
  assert.ok(getDeviceFd(k, g2, '0000:01:00.1') > 0);
  void c;
});
