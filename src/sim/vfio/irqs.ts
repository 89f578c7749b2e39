/**
 * vfio-pci's interrupt ioctls as far as errors and release requests need them:
 * `VFIO_DEVICE_GET_IRQ_INFO` for every index, and `VFIO_DEVICE_SET_IRQS` for the two
 * notification indexes — `VFIO_PCI_ERR_IRQ_INDEX` (signalled by AER `error_detected`, sim/aer.ts)
 * and `VFIO_PCI_REQ_IRQ_INDEX` (signalled while an unbind waits for the user, request.ts).
 *
 * kernel-semantics.md has no rules for these; they follow vfio_pci_core.c
 * (`vfio_pci_ioctl_get_irq_info`, `vfio_pci_get_irq_count`, `vfio_pci_ioctl_set_irqs`),
 * vfio_main.c (`vfio_set_irqs_validate_and_prepare`) and vfio_pci_intrs.c
 * (`vfio_pci_set_irqs_ioctl`, `vfio_pci_set_err_trigger`, `vfio_pci_set_req_trigger`,
 * `vfio_pci_set_ctx_trigger_single`) of 6.1, which 2013 (3.10+, ERR only) and 6.6+ share.
 * INTx/MSI/MSI-X triggers are not modelled (their counts are: the model has no interrupt pin and
 * no MSI capabilities, so they are 0).
 * @module
 */

import type { IoctlArg } from '../../kernel/syscalls.ts';
import { findCapability } from '../../pci/config-space.ts';
import {
  decodeIrqSetData,
  decodeIrqSetHeader,
  encodeIrqInfo,
  VFIO_PCI_IRQ_INDEX as IRQ,
  IRQ_INFO_SIZE,
  IRQ_SET_HEADER_SIZE,
  irqSetDataSize,
  VFIO_IRQ_INFO,
  VFIO_IRQ_SET,
  VFIO_IRQ_SET_ACTION_TYPE_MASK,
  VFIO_IRQ_SET_DATA_TYPE_MASK,
} from '../../uapi/vfio-irqs.ts';
import type { EventfdCtx } from '../eventfd.ts';
import { signalEventfd } from '../eventfd.ts';
import { fail } from '../rules.ts';
import type { KernelCtx, VfioDevice } from './model.ts';
import { decodeIn, u32, userIn, userOut } from './user-mem.ts';

/** `VFIO_PCI_NUM_IRQS` of the era: the REQ index arrived in 4.0. */
export function numIrqs(era: KernelCtx['era']): number {
  return era === '2013' ? IRQ.REQ : IRQ.REQ + 1;
}

const isPcie = (dev: VfioDevice) => dev.fn.desc.pcie !== undefined;

/** `vfio_pci_get_irq_count`. */
function irqCount(ctx: KernelCtx, dev: VfioDevice, index: number): number {
  const config = ctx.pci.state(dev.bdf).config;
  switch (index) {
    case IRQ.INTX:
      // PCI_INTERRUPT_PIN; VFs have none (is_virtfn).
      return dev.fn.desc.virtfn || config[0x3d] === 0 ? 0 : 1;
    case IRQ.MSI: {
      const pos = findCapability(config, 0x05); // PCI_CAP_ID_MSI: absent from the model's images
      return pos === null ? 0 : 1 << ((config[pos + 2]! & 0x0e) >> 1);
    }
    case IRQ.MSIX: {
      const pos = findCapability(config, 0x11); // PCI_CAP_ID_MSIX
      return pos === null ? 0 : ((config[pos + 2]! | (config[pos + 3]! << 8)) & 0x7ff) + 1;
    }
    case IRQ.ERR:
      return isPcie(dev) ? 1 : 0;
    case IRQ.REQ:
      return 1;
    default:
      return 0;
  }
}

/** `vfio_pci_ioctl_get_irq_info`: copies back the 16 bytes it reads. */
export function getIrqInfo(
  ctx: KernelCtx,
  dev: VfioDevice,
  arg: IoctlArg | undefined,
  syscall: string,
): number {
  const buf = userIn(arg, IRQ_INFO_SIZE, syscall);
  const argsz = u32(buf, 0);
  const index = u32(buf, 8);
  if (argsz < IRQ_INFO_SIZE || index >= numIrqs(ctx.era))
    fail('IRQ_INFO.args', syscall, `argsz ${argsz}, index ${index}`);
  if (index === IRQ.ERR && !isPcie(dev)) fail('IRQ_INFO.err-not-pcie', syscall, dev.bdf);
  const flags =
    VFIO_IRQ_INFO.EVENTFD |
    (index === IRQ.INTX ? VFIO_IRQ_INFO.MASKABLE | VFIO_IRQ_INFO.AUTOMASKED : VFIO_IRQ_INFO.NORESIZE);
  userOut(buf, 0, encodeIrqInfo({ argsz, flags, index, count: irqCount(ctx, dev, index) }), syscall);
  return 0;
}

/** The trigger slot a SET_IRQS of `index` works on (`vfio_pci_set_err_trigger` / `_req_trigger`). */
type Slot = 'errTrigger' | 'reqTrigger';

/** `vfio_pci_ioctl_set_irqs` → `vfio_set_irqs_validate_and_prepare` → `vfio_pci_set_irqs_ioctl`. */
export function setIrqs(ctx: KernelCtx, dev: VfioDevice, arg: IoctlArg | undefined, syscall: string): number {
  const buf = userIn(arg, IRQ_SET_HEADER_SIZE, syscall);
  const hdr = decodeIn(syscall, () => decodeIrqSetHeader(buf));
  const max = hdr.index < numIrqs(ctx.era) ? irqCount(ctx, dev, hdr.index) : 0;
  const known = VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK;
  if (
    hdr.argsz < IRQ_SET_HEADER_SIZE ||
    hdr.index >= numIrqs(ctx.era) ||
    hdr.count >= 0xffffffff - hdr.start ||
    (hdr.flags & ~known) !== 0
  )
    fail(
      'SET_IRQS.args',
      syscall,
      `argsz ${hdr.argsz}, index ${hdr.index}, flags 0x${hdr.flags.toString(16)}`,
    );
  if (hdr.start >= max || hdr.start + hdr.count > max)
    fail('SET_IRQS.range', syscall, `start ${hdr.start}, count ${hdr.count}, the index has ${max}`);
  const type = hdr.flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
  if (
    type !== VFIO_IRQ_SET.DATA_NONE &&
    type !== VFIO_IRQ_SET.DATA_BOOL &&
    type !== VFIO_IRQ_SET.DATA_EVENTFD
  )
    fail('SET_IRQS.data', syscall, `data flags 0x${type.toString(16)}`);
  const size = irqSetDataSize(hdr.flags);
  if (size > 0 && hdr.argsz - IRQ_SET_HEADER_SIZE < hdr.count * size)
    fail('SET_IRQS.data', syscall, `argsz ${hdr.argsz} for ${hdr.count} element(s) of ${size} byte(s)`);
  const data = size > 0 ? decodeIn(syscall, () => decodeIrqSetData(buf, hdr.flags, hdr.count)) : [];

  const action = hdr.flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
  let slot: Slot | null = null;
  if (hdr.index === IRQ.ERR && action === VFIO_IRQ_SET.ACTION_TRIGGER && isPcie(dev)) slot = 'errTrigger';
  else if (hdr.index === IRQ.REQ && action === VFIO_IRQ_SET.ACTION_TRIGGER) slot = 'reqTrigger';
  else if (hdr.index === IRQ.ERR || hdr.index === IRQ.REQ)
    fail('SET_IRQS.action', syscall, `index ${hdr.index}`);
  else fail('SET_IRQS.unmodelled', syscall, `index ${hdr.index}`);
  if (hdr.start !== 0 || hdr.count > 1)
    fail('SET_IRQS.single', syscall, `start ${hdr.start}, count ${hdr.count}`);
  setTriggerSingle(ctx, dev, slot, hdr.count, type, data, syscall);
  return 0;
}

/** `vfio_pci_set_ctx_trigger_single`: DATA_NONE/BOOL signal (loopback test) or tear down; DATA_EVENTFD sets. */
function setTriggerSingle(
  ctx: KernelCtx,
  dev: VfioDevice,
  slot: Slot,
  count: number,
  type: number,
  data: number[],
  syscall: string,
): void {
  const current: EventfdCtx | null = dev[slot];
  if (type === VFIO_IRQ_SET.DATA_NONE) {
    if (!current) fail('SET_IRQS.single', syscall, 'DATA_NONE with no trigger set');
    if (count > 0) signalEventfd(current);
    else dev[slot] = null;
    return;
  }
  if (count === 0) fail('SET_IRQS.single', syscall, 'count 0');
  const value = data[0]!;
  if (type === VFIO_IRQ_SET.DATA_BOOL) {
    if (value !== 0 && current) signalEventfd(current);
    return;
  }
  if (value === -1) {
    dev[slot] = null;
    return;
  }
  if (value < 0) return; // neither -1 nor an fd: the kernel ignores it and returns 0
  const file = ctx.fds.get(value);
  if (!file) fail('SET_IRQS.fd', syscall, `fd ${value}`);
  if (file.kind !== 'eventfd') fail('SET_IRQS.not-eventfd', syscall, `fd ${value} is a ${file.kind} file`);
  dev[slot] = file.ctx;
}
