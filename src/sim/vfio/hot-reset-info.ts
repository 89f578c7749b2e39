/**
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (I1–I11), as `vfio_pci_ioctl_get_pci_hot_reset_info` does it:
 * header, scope, the ENOSPC protocol (header with count N and flags 0, also in cdev mode), one
 * entry per function in walk order. Group mode reports IOMMU group ids (EPERM for a function
 * without a group); a cdev-opened caller [6.6+] gets devids, OWNED / NOT_OWNED and the DEV_ID
 * flags instead (I5, I6; `vfio_pci_fill_devs`). 6.1 and [2013] copy the header back on every error
 * after the scope check (with the caller's own `count`); 6.6+ only on ENOSPC (I9).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { devfn } from '../../pci/bdf.ts';
import { hotResetScope } from '../../pci/reset-scope.ts';
import {
  type DependentDevice,
  decodeHotResetInfo,
  encodeHotResetInfo,
  HOT_RESET_HEADER_SIZE,
  hotResetInfoSize,
  VFIO_PCI_DEVID,
  VFIO_PCI_HOT_RESET_FLAG,
} from '../../uapi/vfio-structs.ts';
import { fail } from '../rules.ts';
import { devIdIn } from './iommufd-device.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { decodeIn, userIn, userOut } from './user-mem.ts';

export function hotResetInfo(
  ctx: KernelCtx,
  dev: VfioDevice,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const buf = userIn(arg, HOT_RESET_HEADER_SIZE, syscall);
  const hdr = decodeIn(syscall, () => decodeHotResetInfo(buf.subarray(0, HOT_RESET_HEADER_SIZE)));
  if (hdr.argsz < HOT_RESET_HEADER_SIZE) fail('I1', syscall, `argsz ${hdr.argsz}`); // I1
  const writeHeader = (count: number) =>
    userOut(buf, 0, encodeHotResetInfo({ argsz: hdr.argsz, flags: 0, count, devices: [] }), syscall);

  const scope = hotResetScope(dev.fn, ctx.era); // I2
  if (scope.kind === 'none') fail('I2', syscall, `${dev.bdf}: ${scope.reason.code}`);
  const n = scope.functions.length; // I3
  if (hdr.argsz < hotResetInfoSize(n)) {
    writeHeader(n); // I4: count written, argsz left as given
    fail('I4', syscall, `${n} device(s) need argsz ${hotResetInfoSize(n)}`);
  }
  const devices: DependentDevice[] = [];
  // I6: a cdev-opened caller gets DEV_ID, and DEV_ID_OWNED unless some entry is NOT_OWNED.
  let flags = dev.cdevOpened ? VFIO_PCI_HOT_RESET_FLAG.DEV_ID | VFIO_PCI_HOT_RESET_FLAG.DEV_ID_OWNED : 0;
  const ictx = dev.bound?.file.ctx ?? null;
  for (const f of scope.functions) {
    const at = { segment: f.bdf.domain, bus: f.bdf.bus, devfn: devfn(f.bdf) };
    if (dev.cdevOpened) {
      // I5: only dev_set members can be owned; then by devid, or through a bound group-mate.
      const member = ctx.devices.get(f.name);
      const id = member && member.devSet === dev.devSet ? devIdIn(member, ictx) : 'not-owned';
      if (id === 'not-owned') flags &= ~VFIO_PCI_HOT_RESET_FLAG.DEV_ID_OWNED;
      const devid =
        id === 'not-owned' ? VFIO_PCI_DEVID.NOT_OWNED : id === 'owned' ? VFIO_PCI_DEVID.OWNED : id;
      devices.push({ id: devid, ...at });
      continue;
    }
    const group = ctx.host.groups.groupOf(f);
    if (group === null) {
      if (ctx.era !== '6.6+') writeHeader(hdr.count); // I9
      fail('I5', syscall, f.name);
    }
    devices.push({ id: group, ...at });
  }
  userOut(buf, 0, encodeHotResetInfo({ argsz: hdr.argsz, flags, count: n, devices: [] }), syscall); // I7
  const body = encodeHotResetInfo({ argsz: hdr.argsz, flags, count: n, devices });
  userOut(buf, HOT_RESET_HEADER_SIZE, body.subarray(HOT_RESET_HEADER_SIZE), syscall);
  return 0;
}
