/**
 * Dropping a reference on an open file, and what the last reference releases (like `fput`):
 * a group file detaches its container (G6), a device file closes the device (O3–O5), gives back
 * its container user and unpins its group file; a cdev file closes and unbinds its device (K6);
 * an iommufd file destroys its objects; KVM files give back what the KVM-VFIO device holds
 * (E2, E4). Containers live on in their groups (C6).
 * @module
 */

import { releaseKvmDeviceFile, releaseVmFile } from '../kvm/kvm.ts';
import { releaseCdev } from './cdev.ts';
import type { OpenFile } from './fds.ts';
import { dropContainerUser, releaseGroupFile } from './group.ts';
import { releaseIommufd } from './iommufd.ts';
import { closeDevice } from './lifecycle.ts';
import type { KernelCtx } from './model.ts';

export function putFile(ctx: KernelCtx, file: OpenFile): void {
  file.refs--;
  if (file.refs > 0) return;
  switch (file.kind) {
    case 'group':
      releaseGroupFile(ctx, file);
      return;
    case 'device': {
      const g = file.device.group;
      closeDevice(ctx, file.device);
      if (file.groupFile) {
        if (g.container) g.containerUsers--; // 6.1 vfio_device_unassign_container
        putFile(ctx, file.groupFile);
      } else {
        dropContainerUser(g); // [2013] vfio_group_try_dissolve_container
      }
      return;
    }
    case 'cdev':
      releaseCdev(ctx, file);
      return;
    case 'iommufd':
      releaseIommufd(file);
      return;
    case 'kvm-vm':
      releaseVmFile(ctx, file);
      return;
    case 'kvm-device':
      releaseKvmDeviceFile(ctx, file);
      return;
    case 'container':
    case 'null':
    case 'kvm':
    case 'eventfd':
      return;
  }
}
