/**
 * VFIO_DEVICE_PCI_HOT_RESET, 6.1 group mode (H1–H15), in the order of
 * `vfio_pci_ioctl_pci_hot_reset` and `vfio_pci_dev_set_hot_reset`: header, scope, count, the fd
 * array (first bad fd decides), then under the dev_set lock: resettable (H6), runtime resume (H7),
 * group membership and vma trylock per member (H8), memory trylocks, D0, `pci_reset_bus` on the
 * set's first member (H9). Any open group file proves ownership (H13).
 *
 * [6.6+] (H20–H24): `!!count == cdev_opened` is refused before the scope; a group-opened caller
 * passes group fds as in 6.1, a cdev-opened one an empty array and ownership is judged in its
 * iommufd ctx (devid, or a bound device in the member's IOMMU group). Mainline has no vma lock:
 * per member, ownership then the memory trylock (`vfio_pci_dev_set_hot_reset`).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { hotResetScope } from '../../pci/reset-scope.ts';
import { decodeHotResetFds, decodeHotResetHeader, HOT_RESET_HEADER_SIZE } from '../../uapi/vfio-structs.ts';
import { fail, passRule } from '../rules.ts';
import { resettable } from './dev-set.ts';
import type { GroupFile } from './fds.ts';
import { devIdIn } from './iommufd-device.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { idle, wake } from './power.ts';
import { decodeIn, userIn } from './user-mem.ts';

/**
 * H1–H4: the checks every era shares; returns the fds array as the kernel copied it, or null for
 * the empty array of a cdev-opened caller [6.6+].
 */
export function hotResetPrologue(
  ctx: KernelCtx,
  dev: VfioDevice,
  arg: IoctlArg | undefined,
  syscall: string,
): number[] | null {
  const buf = userIn(arg, HOT_RESET_HEADER_SIZE, syscall);
  const hdr = decodeIn(syscall, () => decodeHotResetHeader(buf));
  if (hdr.argsz < HOT_RESET_HEADER_SIZE || hdr.flags !== 0)
    fail('H1', syscall, `argsz ${hdr.argsz}, flags ${hdr.flags}`);
  // H20 [6.6+]: `!!count == cdev_opened` — a zero-length array is for cdev-opened devices only.
  if (ctx.era === '6.6+' && (hdr.count !== 0) === dev.cdevOpened)
    fail('H20', syscall, `count ${hdr.count}, ${dev.cdevOpened ? 'cdev' : 'group'}-opened`);
  const scope = hotResetScope(dev.fn, ctx.era);
  if (scope.kind === 'none') fail('H2', syscall, `${dev.bdf}: ${scope.reason.code}`);
  if (ctx.era === '6.6+' && hdr.count === 0) return null;
  const n = scope.functions.length;
  if (hdr.count === 0 || hdr.count > n) fail('H3', syscall, `count ${hdr.count}, ${n} function(s) in scope`);
  return decodeIn(syscall, () => decodeHotResetFds(buf, hdr.count)); // H4: argsz is not checked
}

export function hotReset(
  ctx: KernelCtx,
  dev: VfioDevice,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const fds = hotResetPrologue(ctx, dev, arg, syscall);
  const files: GroupFile[] = [];
  for (const fd of fds ?? []) {
    const f = ctx.fds.get(fd); // H5: negative numbers are never open
    if (!f) return fail('H5.fd', syscall, `fd ${fd}`);
    if (f.kind !== 'group') return fail('H5.not-group', syscall, `fd ${fd} is ${f.kind}`);
    files.push(f);
  }
  const ictx = fds === null ? (dev.bound?.file.ctx ?? null) : null;
  /** H8 / H22 / H23: the member is owned through a passed group file, or through the caller's ctx. */
  const ownerCheck = (m: VfioDevice): void => {
    if (fds !== null) {
      if (!files.some((f) => f.group === m.group))
        fail('H8.group', syscall, `${m.bdf} (group ${m.group.id})`);
    } else if (devIdIn(m, ictx) === 'not-owned') fail('H22', syscall, `${m.bdf} (group ${m.group.id})`);
  };
  const set = dev.devSet!;
  const first = resettable(ctx, set);
  if (!first) return fail('H6', syscall, unownedText(ctx, dev));
  for (const m of set.members) wake(ctx, m); // H7
  try {
    if (ctx.era === '6.1') {
      for (const m of set.members) {
        ownerCheck(m);
        if (m.vmaLockHeld) fail('H8.vma', syscall, m.bdf);
      }
      for (const m of set.members) if (m.memoryLockHeld) fail('H8.memory', syscall, m.bdf);
    } else {
      // H24: mainline zaps with unmap_mapping_range under the memory lock alone, member by member.
      for (const m of set.members) {
        ownerCheck(m);
        if (m.memoryLockHeld) fail('H8.memory', syscall, m.bdf);
      }
    }
    const r = ctx.pci.resetBus(first.bdf); // H9 (members are already in D0)
    if (r.errno !== 0) fail(passRule('H9', r.errno), syscall, `${r.kind} reset below ${r.bridge}`);
    return 0; // H12
  } finally {
    for (const m of set.members) idle(ctx, m); // H10
  }
}

/** Names the first function of the scope that keeps the dev_set from being resettable (H6). */
function unownedText(ctx: KernelCtx, dev: VfioDevice): string {
  const first = dev.devSet?.members[0] ?? dev;
  const scope = hotResetScope(first.fn, ctx.era);
  if (scope.kind === 'none') return `no slot or bus reset for ${first.bdf}`;
  const out = scope.functions.find((f) => ctx.devices.get(f.name)?.devSet !== dev.devSet);
  if (!out) return dev.bdf;
  const driver = ctx.host.state(out.name)?.driver ?? null;
  return `${out.name} (${driver ?? 'no driver'}) is not in dev_set ${dev.devSet?.key}`;
}
