/**
 * VFIO_DEVICE_PCI_HOT_RESET as the Aug-2013 work did it (3.12/3.13, §8): each fd goes through
 * the external-user API (E1: a group file with a container, an IOMMU driver and a viable group),
 * then every function in scope must have an IOMMU group among those supplied
 * (`vfio_pci_validate_devs`: EPERM without a group, EINVAL when its group is missing). Drivers
 * do not matter, there is no dev_set and no memory lock; the PCI core locks block.
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { hotResetScope } from '../../pci/reset-scope.ts';
import { fail, passRule } from '../rules.ts';
import { hotResetPrologue } from './hot-reset.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { isViable } from './viability.ts';

export function hotReset2013(
  ctx: KernelCtx,
  dev: VfioDevice,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const fds = hotResetPrologue(ctx, dev, arg, syscall);
  const ids = new Set<number>();
  for (const fd of fds ?? []) {
    const f = ctx.fds.get(fd);
    if (!f) return fail('H5.fd', syscall, `fd ${fd}`);
    if (f.kind !== 'group') return fail('E1.not-group', syscall, `fd ${fd} is ${f.kind}`);
    const g = f.group;
    if (!g.container || g.containerUsers === 0) return fail('E1.no-container', syscall, `group ${g.id}`);
    if (g.container.iommu === null) fail('E1.no-iommu', syscall, `group ${g.id}`);
    if (!isViable(ctx, g)) fail('E1.not-viable', syscall, `group ${g.id}`);
    ids.add(g.id);
  }
  const scope = hotResetScope(dev.fn, ctx.era);
  if (scope.kind === 'none') return fail('H2', syscall, dev.bdf);
  for (const f of scope.functions) {
    const id = ctx.host.groups.groupOf(f);
    if (id === null) fail('H2013.no-group', syscall, f.name);
    if (!ids.has(id)) fail('H2013.group', syscall, `${f.name} (group ${id})`);
  }
  const r = ctx.pci.resetBus(dev.bdf);
  if (r.errno !== 0) fail(passRule('H9', r.errno), syscall, `${r.kind} reset below ${r.bridge}`);
  return 0;
}
