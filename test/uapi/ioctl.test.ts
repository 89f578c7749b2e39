import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERRNO, errnoName } from '../../src/uapi/errno.ts';
import { IOMMUFD, KVM, requestName, VFIO } from '../../src/uapi/ioctl.ts';

test('§2: VFIO requests are _IO(";", 100 + n) with the values of the spec table', () => {
  assert.equal(VFIO.GET_API_VERSION, 0x3b64);
  assert.equal(VFIO.CHECK_EXTENSION, 0x3b65);
  assert.equal(VFIO.SET_IOMMU, 0x3b66);
  assert.equal(VFIO.GROUP_GET_STATUS, 0x3b67);
  assert.equal(VFIO.GROUP_SET_CONTAINER, 0x3b68);
  assert.equal(VFIO.GROUP_UNSET_CONTAINER, 0x3b69);
  assert.equal(VFIO.GROUP_GET_DEVICE_FD, 0x3b6a);
  assert.equal(VFIO.DEVICE_GET_INFO, 0x3b6b);
  assert.equal(VFIO.DEVICE_RESET, 0x3b6f);
  assert.equal(VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, 0x3b70);
  assert.equal(VFIO.DEVICE_PCI_HOT_RESET, 0x3b71);
  assert.equal(VFIO.DEVICE_BIND_IOMMUFD, 0x3b76);
  assert.equal(VFIO.DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
  assert.equal(VFIO.DEVICE_DETACH_IOMMUFD_PT, 0x3b78);
  assert.equal(IOMMUFD.IOAS_ALLOC, 0x3b81);
});

test('§2: KVM device requests carry size and direction', () => {
  assert.equal(KVM.CREATE_DEVICE, 0xc00caee0);
  assert.equal(KVM.SET_DEVICE_ATTR, 0x4018aee1);
});

test('§2: type1 container requests collide numerically with device ones; the fd kind names them', () => {
  assert.equal(VFIO.IOMMU_GET_INFO, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO);
  assert.equal(requestName(0x3b70, 'device'), 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO');
  assert.equal(requestName(0x3b70, 'container'), 'VFIO_IOMMU_GET_INFO');
  assert.equal(requestName(0x3b63, 'group'), '0x3b63');
});

test('errno names and numbers are Linux x86-64 values', () => {
  assert.equal(ERRNO.ENOTTY, 25);
  assert.equal(ERRNO.EBADFD, 77);
  assert.equal(errnoName(-22), 'EINVAL');
  assert.equal(errnoName(999), 'E999');
});
