/**
 * `/dev/kvm` as far as the KVM-VFIO device needs it (every era): KVM_CREATE_VM, KVM_CREATE_DEVICE
 * of `KVM_DEV_TYPE_VFIO` and KVM_SET_DEVICE_ATTR, and the lifetimes behind them. Read from
 * virt/kvm/kvm_main.c (`kvm_dev_ioctl`, `kvm_vm_ioctl` → `kvm_ioctl_create_device`: unknown type
 * ENODEV, `KVM_CREATE_DEVICE_TEST` creates nothing, the fd is written back into the struct;
 * `kvm_device_release`) and virt/kvm/vfio.c (`kvm_vfio_create`: one per VM).
 *
 * Lifetimes: a KVM device holds its VM (`kvm_get_kvm`). 6.2+ kvm-vfio has `.release`, run when
 * the device fd closes; 3.13 (and, in this model, 6.1) only `.destroy`, run when the VM goes —
 * after its fd and every KVM device fd are closed.
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { KVM } from '../../uapi/ioctl.ts';
import { decodeKvmCreateDevice, decodeKvmDeviceAttr } from '../../uapi/vfio-structs.ts';
import { fail } from '../rules.ts';
import type { KvmDeviceFile, KvmFile, KvmVmFile } from '../vfio/fds.ts';
import type { KernelCtx } from '../vfio/model.ts';
import { decodeIn, intArg, userIn, userOut } from '../vfio/user-mem.ts';
import type { KvmVm } from './model.ts';
import { kvmVfioHasAttr, kvmVfioSetAttr, releaseKvmVfio } from './vfio-device.ts';

/** `KVM_CREATE_DEVICE_TEST`: only ask whether the type exists. */
const CREATE_DEVICE_TEST = 1;
const KVM_CREATE_DEVICE_SIZE = 12;
const KVM_DEVICE_ATTR_SIZE = 24;

export function kvmIoctl(
  ctx: KernelCtx,
  _file: KvmFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  // kvm_dev_ioctl: GET_API_VERSION takes no argument; anything else unknown goes to kvm_arch_dev_ioctl.
  if (request === KVM.GET_API_VERSION) {
    if (arg !== undefined && arg !== 0) fail('kvm.api-arg', syscall, `argument ${String(arg)}`);
    return KVM.API_VERSION;
  }
  if (request !== KVM.CREATE_VM) return fail('kvm.EINVAL', syscall);
  const type = arg === undefined ? 0 : intArg(arg);
  if (type !== 0) fail('kvm.vm-type', syscall, `type ${String(arg)}`);
  const vm: KvmVm = { users: 1, vfio: null };
  return ctx.fds.install({ kind: 'kvm-vm', refs: 0, vm });
}

function createDevice(ctx: KernelCtx, vm: KvmVm, arg: IoctlArg | undefined, syscall: string): number {
  const buf = userIn(arg, KVM_CREATE_DEVICE_SIZE, syscall);
  const cd = decodeIn(syscall, () => decodeKvmCreateDevice(buf));
  if (cd.type !== KVM.DEV_TYPE_VFIO) return fail('kvm.no-type', syscall, `type ${cd.type}`);
  if (cd.flags & CREATE_DEVICE_TEST) return 0;
  if (vm.vfio) return fail('kvm.vfio-exists', syscall);
  vm.vfio = { vm, groups: [], files: [], released: false };
  vm.users++; // kvm_get_kvm
  const fd = ctx.fds.install({ kind: 'kvm-device', refs: 0, vfio: vm.vfio });
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, fd, true);
  userOut(buf, 4, out, syscall); // cd->fd
  return 0;
}

export function vmIoctl(
  ctx: KernelCtx,
  file: KvmVmFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  if (request === KVM.CREATE_DEVICE) return createDevice(ctx, file.vm, arg, syscall);
  return fail('kvm.ENOTTY', syscall);
}

export function kvmDeviceIoctl(
  ctx: KernelCtx,
  file: KvmDeviceFile,
  request: number,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  // kvm_device_ioctl → kvm_device_ioctl_attr: a missing accessor is EPERM before the struct is read.
  if (request === KVM.GET_DEVICE_ATTR) return fail('kvm.no-get-attr', syscall);
  if (request !== KVM.SET_DEVICE_ATTR && request !== KVM.HAS_DEVICE_ATTR) return fail('kvm.ENOTTY', syscall);
  const buf = userIn(arg, KVM_DEVICE_ATTR_SIZE, syscall);
  const attr = decodeIn(syscall, () => decodeKvmDeviceAttr(buf));
  if (request === KVM.HAS_DEVICE_ATTR) return kvmVfioHasAttr(attr, syscall);
  return kvmVfioSetAttr(ctx, file.vfio, attr, syscall);
}

/** `kvm_put_kvm`: the VM goes with its last user, and with it (3.13/6.1 `.destroy`) the KVM-VFIO device. */
function putVm(ctx: KernelCtx, vm: KvmVm): void {
  vm.users--;
  if (vm.users === 0 && vm.vfio) releaseKvmVfio(ctx, vm.vfio);
}

export function releaseVmFile(ctx: KernelCtx, file: KvmVmFile): void {
  putVm(ctx, file.vm);
}

/** `kvm_device_release`: 6.6+ runs kvm-vfio's `.release` now and unlinks it; then the VM reference goes. */
export function releaseKvmDeviceFile(ctx: KernelCtx, file: KvmDeviceFile): void {
  const vm = file.vfio.vm;
  if (ctx.era === '6.6+') {
    releaseKvmVfio(ctx, file.vfio);
    vm.vfio = null; // list_del from kvm->devices: a new KVM-VFIO device may be created
  }
  putVm(ctx, vm);
}
