/**
 * The KVM objects the KVM-VFIO pseudo device needs (kernel-semantics §1.3, §3.10): a VM and its
 * one `KVM_DEV_TYPE_VFIO` device with the VFIO groups or files registered with it. Plain data;
 * `kvm.ts` and `vfio-device.ts` hold the rules.
 * @module
 */

import type { OpenFile } from '../vfio/fds.ts';
import type { VfioGroup } from '../vfio/model.ts';

/** A VM (`struct kvm`): lives while its fd or a KVM device fd refers to it (`kvm_get_kvm`). */
export interface KvmVm {
  /** The VM fd's file plus one per open KVM device file (`users_count`). */
  users: number;
  /** The KVM-VFIO device, if created: `kvm_vfio_create` allows one per VM. */
  vfio: KvmVfio | null;
}

/** `struct kvm_vfio`. */
export interface KvmVfio {
  readonly vm: KvmVm;
  /** [2013] `group_list`: each entry is an external user of the group (E1, E2). */
  groups: VfioGroup[];
  /** 5.19+ `file_list`: each entry holds a reference on the VFIO file (E4). */
  files: OpenFile[];
  /** The device's entries were dropped (`.release` at fd close, or `.destroy` at VM teardown). */
  released: boolean;
}
