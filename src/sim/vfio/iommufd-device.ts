/**
 * A vfio device in an iommufd ctx [6.6+]: binding (DMA ownership, the devid), attaching to an IOAS
 * or HWPT and detaching (K3–K5, K7), and the ownership question hot reset asks (I5, H22, H23).
 * Read from drivers/iommu/iommufd/device.c (`iommufd_device_bind` → `iommu_device_claim_dma_owner`,
 * `iommufd_ctx_has_group`, `iommufd_device_change_pt`, `iommufd_device_auto_get_domain`,
 * `iommufd_hw_pagetable_attach`, `iommufd_device_do_replace`, `iommufd_device_detach`) and
 * drivers/vfio/iommufd.c (`vfio_iommufd_get_dev_id`, `vfio_iommufd_physical_attach_ioas`).
 * @module
 */

import { fail } from '../rules.ts';
import type { IommufdFile } from './fds.ts';
import { allocObject, putIommufd } from './iommufd.ts';
import type { IommufdCtx, IommufdObject, KernelCtx, VfioDevice } from './model.ts';
import { dmaUsers } from './viability.ts';

type Hwpt = Extract<IommufdObject, { kind: 'hwpt' }>;

/** `iommufd_ctx_has_group`: some device of this IOMMU group is bound to the ctx. */
export function ctxHasGroup(ictx: IommufdCtx, groupId: number): boolean {
  return [...ictx.objects.values()].some((o) => o.kind === 'device' && o.device.group.id === groupId);
}

/** The iommufd ctx that owns the IOMMU group's DMA through bound devices, if any. */
export function iommufdOwner(ctx: KernelCtx, groupId: number): IommufdCtx | null {
  for (const d of ctx.devices.values()) if (d.bound && d.group.id === groupId) return d.bound.file.ctx;
  return null;
}

/**
 * `vfio_iommufd_get_dev_id` as hot reset reads it (I5, H22): the devid when the device is bound to
 * `ictx`; 'owned' when it is not but a device of its IOMMU group is (the group cannot be owned by
 * anyone else then); 'not-owned' otherwise.
 */
export function devIdIn(dev: VfioDevice, ictx: IommufdCtx | null): number | 'owned' | 'not-owned' {
  if (ictx === null) return 'not-owned';
  if (dev.bound?.file.ctx === ictx) return dev.bound.devid; // H23: a compat group open counts too
  return ctxHasGroup(ictx, dev.group.id) ? 'owned' : 'not-owned';
}

/**
 * `iommufd_device_bind` (K3, K4, K7): claim the IOMMU group's DMA for the ctx — refused while a
 * DMA-API driver, a container or another ctx owns it — then the device object (its id is the devid).
 * MSI isolation is assumed (interrupt remapping on), so that EPERM is not modelled.
 */
export function bindDevice(ctx: KernelCtx, dev: VfioDevice, file: IommufdFile, syscall: string): void {
  const id = dev.group.id;
  const users = dmaUsers(ctx, id);
  if (users.length > 0)
    fail('K4', syscall, `${users[0]!.name} is bound to ${ctx.host.state(users[0]!.name)?.driver}`);
  if (dev.group.container) fail('K4', syscall, `group ${id} is attached to a VFIO container`);
  const owner = iommufdOwner(ctx, id);
  if (owner !== null && owner !== file.ctx)
    fail('K4', syscall, `group ${id} is owned by another iommufd ctx`);
  const obj = allocObject(file.ctx, (devid) => ({ kind: 'device' as const, id: devid, device: dev }));
  dev.bound = { file, devid: obj.id, hwpt: null };
  file.refs++;
}

/** `iommufd_device_unbind` after a detach: DMA ownership goes with the device object. */
export function unbindDevice(dev: VfioDevice): void {
  const b = dev.bound;
  if (!b) return;
  detachPt(dev);
  b.file.ctx.objects.delete(b.devid);
  dev.bound = null;
  putIommufd(b.file);
}

/** Devices of `dev`'s IOMMU group attached in the same ctx (`igroup->device_list`). */
function igroupAttached(dev: VfioDevice): VfioDevice[] {
  const ictx = dev.bound!.file.ctx;
  return [...ictx.objects.values()].flatMap((o) =>
    o.kind === 'device' && o.device.group.id === dev.group.id && o.device.bound?.hwpt != null
      ? [o.device]
      : [],
  );
}

function hwptOf(ictx: IommufdCtx, id: number | null): Hwpt | null {
  const o = id === null ? undefined : ictx.objects.get(id);
  return o?.kind === 'hwpt' ? o : null;
}

/** `iommufd_hw_pagetable_put` of an automatic HWPT: it goes when no device is attached. */
function putHwpt(ictx: IommufdCtx, hwpt: Hwpt): void {
  if (hwpt.devices.length === 0) ictx.objects.delete(hwpt.id);
}

/**
 * K5: ATTACH_IOMMUFD_PT with an IOAS or HWPT id; returns the id written back (for an IOAS, the id
 * of the automatic HWPT — an existing one on that IOAS that the group can use, or a new object). A
 * device already attached is moved by replace, and with it every device of its IOMMU group.
 */
export function attachPt(dev: VfioDevice, ptId: number, syscall: string): number {
  const ictx = dev.bound!.file.ctx;
  const obj = ictx.objects.get(ptId);
  if (!obj) return fail('K5.no-pt', syscall, `id ${ptId}`);
  if (obj.kind !== 'ioas' && obj.kind !== 'hwpt') return fail('K5.not-pt', syscall, `${obj.kind} ${ptId}`);
  const group = igroupAttached(dev);
  const current = group.length > 0 ? group[0]!.bound!.hwpt : null;
  const replacing = dev.bound!.hwpt !== null;
  let target: Hwpt;
  if (obj.kind === 'hwpt') target = obj;
  else {
    // Automatic domains of this IOAS are tried first; one the group cannot use is skipped.
    const autos = [...ictx.objects.values()].filter((o): o is Hwpt => o.kind === 'hwpt' && o.ioas === obj.id);
    const usable = autos.find((h) => replacing || current === null || current === h.id);
    if (usable) target = usable;
    else {
      if (!replacing && current !== null)
        return fail('K5.group-pt', syscall, `group attached to HWPT ${current}`);
      target = allocObject(ictx, (id) => ({ kind: 'hwpt' as const, id, ioas: obj.id, devices: [] }));
    }
  }
  if (!replacing && current !== null && current !== target.id)
    return fail('K5.group-pt', syscall, `group attached to HWPT ${current}`);
  const movers = replacing ? group : [dev];
  for (const d of movers) {
    const old = hwptOf(ictx, d.bound!.hwpt);
    if (old === target) continue;
    if (old) old.devices = old.devices.filter((x) => x !== d);
    target.devices.push(d);
    d.bound!.hwpt = target.id;
    if (old) putHwpt(ictx, old);
  }
  return target.id;
}

/** K5: DETACH_IOMMUFD_PT — back to blocking DMA; an automatic HWPT left without devices goes. */
export function detachPt(dev: VfioDevice): void {
  const b = dev.bound;
  if (!b || b.hwpt === null) return;
  const ictx = b.file.ctx;
  const hwpt = hwptOf(ictx, b.hwpt);
  b.hwpt = null;
  if (!hwpt) return;
  hwpt.devices = hwpt.devices.filter((d) => d !== dev);
  putHwpt(ictx, hwpt);
}
