import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VFIO, VFIO_EXTENSION as X } from '../../src/uapi/ioctl.ts';
import {
  eraKernel,
  getDeviceFd,
  groupIdOf,
  kernel,
  setContainer,
  setIommu,
  throwsErrno,
} from '../helpers/vfio-steps.ts';

const PPB = '0000:02:01.0';
const ppbGroup = (k: ReturnType<typeof kernel>) => `/dev/vfio/${groupIdOf(k, PPB)}`;

test('C1: every open of /dev/vfio/vfio succeeds and makes a new, empty container', () => {
  const k = kernel('qemu-ppb');
  const a = k.sys.open('/dev/vfio/vfio');
  const b = k.sys.open('/dev/vfio/vfio');
  const s = k.vfioState();
  assert.deepEqual(
    s.containers.map((c) => [c.fds, c.iommu, c.groups]),
    [
      [[a], null, []],
      [[b], null, []],
    ],
  );
});

test('C2: VFIO_GET_API_VERSION returns 0 in every era', () => {
  for (const era of ['2013', '6.1', '6.6+'] as const) {
    const k = eraKernel('qemu-ppb', era);
    assert.equal(k.sys.ioctl(k.sys.open('/dev/vfio/vfio'), VFIO.GET_API_VERSION), 0);
  }
});

test('C3: CHECK_EXTENSION answers for type1 (TYPE1, TYPE1v2, UNMAP_ALL); 0 for SPAPR and unknown numbers', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  const ask = (x: number) => k.sys.ioctl(c, VFIO.CHECK_EXTENSION, x);
  assert.equal(ask(X.TYPE1_IOMMU), 1);
  assert.equal(ask(X.TYPE1v2_IOMMU), 1);
  assert.equal(ask(X.UNMAP_ALL), 1);
  assert.equal(ask(X.SPAPR_TCE_IOMMU), 0);
  assert.equal(ask(X.NOIOMMU_IOMMU), 0);
  assert.equal(ask(0x7777), 0);
  // Needs a live backend: DMA_CC and (since the mdev fix) UPDATE_VADDR.
  assert.equal(ask(X.DMA_CC_IOMMU), 0);
  assert.equal(ask(X.UPDATE_VADDR), 0);
});

test('C3: once an IOMMU driver is set only it answers (DMA_CC becomes 1)', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  const g = k.sys.open(ppbGroup(k));
  setContainer(k, g, c);
  setIommu(k, c);
  assert.equal(k.sys.ioctl(c, VFIO.CHECK_EXTENSION, X.DMA_CC_IOMMU), 1);
  assert.equal(k.sys.ioctl(c, VFIO.CHECK_EXTENSION, X.TYPE1v2_IOMMU), 1);
});

test('C3 [2013]: the 2013 type1 answers TYPE1 and TYPE1v2 only', () => {
  const k = eraKernel('qemu-ppb', '2013');
  const c = k.sys.open('/dev/vfio/vfio');
  assert.equal(k.sys.ioctl(c, VFIO.CHECK_EXTENSION, X.TYPE1_IOMMU), 1);
  assert.equal(k.sys.ioctl(c, VFIO.CHECK_EXTENSION, X.TYPE1v2_IOMMU), 1);
  assert.equal(k.sys.ioctl(c, VFIO.CHECK_EXTENSION, X.UNMAP_ALL), 0);
});

test('C4 (scenario 5): SET_IOMMU without a group EINVAL; with one 0; again EINVAL; 0x7777 ENODEV', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  throwsErrno(() => setIommu(k, c), 'EINVAL', 'C4.no-group');
  const g = k.sys.open(ppbGroup(k));
  setContainer(k, g, c);
  assert.equal(k.sys.ioctl(c, VFIO.SET_IOMMU, X.TYPE1v2_IOMMU), 0);
  throwsErrno(() => setIommu(k, c), 'EINVAL', 'C4.iommu-set');

  const k2 = kernel('qemu-ppb');
  const c2 = k2.sys.open('/dev/vfio/vfio');
  setContainer(k2, k2.sys.open(ppbGroup(k2)), c2);
  throwsErrno(() => k2.sys.ioctl(c2, VFIO.SET_IOMMU, 0x7777), 'ENODEV', 'C4.no-backend');
  throwsErrno(() => k2.sys.ioctl(c2, VFIO.SET_IOMMU, X.SPAPR_TCE_IOMMU), 'ENODEV', 'C4.no-backend');
  // type1 claims UNMAP_ALL in CHECK_EXTENSION, so it is opened with it, and its open() says EINVAL.
  throwsErrno(() => k2.sys.ioctl(c2, VFIO.SET_IOMMU, X.UNMAP_ALL), 'EINVAL', 'C4.open');
  // A failed SET_IOMMU leaves no driver: TYPE1 (v1) still works.
  assert.equal(k2.sys.ioctl(c2, VFIO.SET_IOMMU, X.TYPE1_IOMMU), 0);
  assert.equal(k2.vfioState().containers[0]!.iommu, 'TYPE1');
});

test('C5 (scenario 8): other ioctls on a container without an IOMMU driver fail with EINVAL, not ENOTTY', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  throwsErrno(() => k.sys.ioctl(c, 0x3b00 | 99), 'EINVAL', 'C5');
  throwsErrno(() => k.sys.ioctl(c, VFIO.IOMMU_MAP_DMA, new Uint8Array(32)), 'EINVAL', 'C5');
});

test('C5: with a driver, unknown ioctls go to type1 (ENOTTY); MAP/UNMAP_DMA check their arguments, then are accepted as no-ops', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  setContainer(k, k.sys.open(ppbGroup(k)), c);
  setIommu(k, c);
  throwsErrno(() => k.sys.ioctl(c, 0x3b00 | 99), 'ENOTTY', 'C5.type1');
  // struct vfio_iommu_type1_dma_map {argsz, flags, vaddr, iova, size}: all zero is argsz 0 (EINVAL).
  throwsErrno(() => k.sys.ioctl(c, VFIO.IOMMU_MAP_DMA, new Uint8Array(32)), 'EINVAL', 'C5.dma-args');
  const map = new Uint8Array(32);
  const v = new DataView(map.buffer);
  v.setUint32(0, 32, true);
  v.setUint32(4, 3, true); // READ | WRITE
  v.setBigUint64(8, 0x7f0000000000n, true);
  v.setBigUint64(24, 0x200000n, true);
  assert.equal(k.sys.ioctl(c, VFIO.IOMMU_MAP_DMA, map), 0);
  const unmap = new Uint8Array(24);
  new DataView(unmap.buffer).setUint32(0, 24, true);
  assert.equal(k.sys.ioctl(c, VFIO.IOMMU_UNMAP_DMA, unmap), 0);
});

test('C6: closing the container fd keeps the attached group working; the last group leaving drops the driver', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  const g = k.sys.open(ppbGroup(k));
  setContainer(k, g, c);
  setIommu(k, c);
  k.sys.close(c);
  // The group holds the container: GET_DEVICE_FD still works.
  const d = getDeviceFd(k, g, PPB);
  assert.deepEqual(
    k.vfioState().containers.map((x) => [x.iommu, x.groups, x.fds]),
    [['TYPE1v2', [3], []]],
  );
  k.sys.close(d);
  k.sys.ioctl(g, VFIO.GROUP_UNSET_CONTAINER);
  assert.deepEqual(k.vfioState().containers, []);
});

test('C6: a container whose last group leaves is de-privileged back to the C1 state', () => {
  const k = kernel('qemu-ppb');
  const c = k.sys.open('/dev/vfio/vfio');
  const g = k.sys.open(ppbGroup(k));
  setContainer(k, g, c);
  setIommu(k, c);
  k.sys.ioctl(g, VFIO.GROUP_UNSET_CONTAINER);
  assert.equal(k.vfioState().containers[0]!.iommu, null);
  throwsErrno(() => setIommu(k, c), 'EINVAL', 'C4.no-group');
  throwsErrno(() => k.sys.ioctl(c, VFIO.IOMMU_MAP_DMA, new Uint8Array(32)), 'EINVAL', 'C5');
});
