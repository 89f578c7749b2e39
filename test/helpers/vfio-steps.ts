/**
 * The group-mode recipe of kernel-semantics Appendix A as small steps over a `SimKernel`, plus
 * argument builders (with the uapi codecs) and an errno assertion that also checks the rule.
 */
import assert from 'node:assert/strict';
import { KernelError } from '../../src/kernel/syscalls.ts';
import type { Era } from '../../src/pci/era.ts';
import { SimKernel, type SimKernelOptions } from '../../src/sim/kernel.ts';
import type { RuleId } from '../../src/sim/rules.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import type { ErrnoName } from '../../src/uapi/errno.ts';
import { VFIO, VFIO_EXTENSION } from '../../src/uapi/ioctl.ts';
import { encodeIrqSet, VFIO_IRQ_SET } from '../../src/uapi/vfio-irqs.ts';
import {
  DEVICE_INFO_SIZE,
  type DeviceInfo,
  decodeDeviceInfo,
  decodeGroupStatus,
  decodeHotResetInfo,
  encodeCString,
  encodeGroupStatus,
  encodeHotReset,
  encodeHotResetInfo,
  type HotResetInfo,
  hotResetInfoSize,
} from '../../src/uapi/vfio-structs.ts';
import { VfioError } from '../../src/vfio/errors.ts';

export type Example =
  | 'qemu-ppb'
  | 'qemu-rp'
  | 'qemu-rpn'
  | 'qemu-rp25'
  | 'qemu-sw'
  | 'qemu-root'
  | 'qemu-mf'
  | 'm2g';

export function kernel(example: Example, opts: SimKernelOptions = {}): SimKernel {
  return new SimKernel(loadTopologyFile(`examples/${example}.yaml`), opts);
}

export function eraKernel(example: Example, era: Era): SimKernel {
  return kernel(example, { era });
}

export function groupIdOf(k: SimKernel, bdf: string): number {
  const g = k.host.groups.groupOf(bdf);
  assert.notEqual(g, null, `${bdf} has an IOMMU group`);
  return g!;
}

/** Asserts that `f` throws a KernelError with this errno and, when given, this rule. */
export function throwsErrno(f: () => unknown, errno: ErrnoName, rule?: RuleId): KernelError {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KernelError, `expected KernelError ${errno}, got ${String(caught)}`);
  assert.equal(caught.errno, errno, caught.message);
  if (rule !== undefined) assert.equal(caught.rule, rule, caught.message);
  return caught;
}

/** The VfioError `f` throws (anything else is rethrown; no error fails the test). */
export function caughtVfioError(f: () => unknown): VfioError {
  try {
    f();
  } catch (e) {
    if (e instanceof VfioError) return e;
    throw e;
  }
  assert.fail('expected a VfioError');
}

export function int32(fd: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, fd, true);
  return b;
}

/** Step 1: container, API version 0, TYPE1v2 available. */
export function openContainer(k: SimKernel): number {
  const c = k.sys.open('/dev/vfio/vfio');
  assert.equal(k.sys.ioctl(c, VFIO.GET_API_VERSION), 0);
  assert.equal(k.sys.ioctl(c, VFIO.CHECK_EXTENSION, VFIO_EXTENSION.TYPE1v2_IOMMU), 1);
  return c;
}

export function groupStatus(k: SimKernel, g: number, argsz = 8): number {
  const b = encodeGroupStatus({ argsz, flags: 0 });
  k.sys.ioctl(g, VFIO.GROUP_GET_STATUS, b);
  return decodeGroupStatus(b).flags;
}

export function setContainer(k: SimKernel, g: number, c: number): void {
  k.sys.ioctl(g, VFIO.GROUP_SET_CONTAINER, int32(c));
}

export function setIommu(k: SimKernel, c: number, type: number = VFIO_EXTENSION.TYPE1v2_IOMMU): void {
  k.sys.ioctl(c, VFIO.SET_IOMMU, type);
}

export function getDeviceFd(k: SimKernel, g: number, name: string): number {
  return k.sys.ioctl(g, VFIO.GROUP_GET_DEVICE_FD, encodeCString(name));
}

export interface Opened {
  container: number;
  group: number;
  device: number;
}

/** Steps 1–4 for one device: container, its group (viable, attached), SET_IOMMU, device fd. */
export function openDevice(k: SimKernel, bdf: string, container?: number): Opened {
  const c = container ?? openContainer(k);
  const g = k.sys.open(`/dev/vfio/${groupIdOf(k, bdf)}`);
  assert.equal(groupStatus(k, g) & 1, 1, 'group viable');
  setContainer(k, g, c);
  if (container === undefined) setIommu(k, c);
  return { container: c, group: g, device: getDeviceFd(k, g, bdf) };
}

/** GET_INFO with a buffer of max(argsz, 16) bytes pre-filled with 0xaa, so unwritten bytes show. */
export function deviceInfo(
  k: SimKernel,
  d: number,
  argsz = DEVICE_INFO_SIZE,
): DeviceInfo & { raw: Uint8Array } {
  const raw = new Uint8Array(Math.max(argsz, 16)).fill(0xaa);
  new DataView(raw.buffer).setUint32(0, argsz, true);
  k.sys.ioctl(d, VFIO.DEVICE_GET_INFO, raw);
  return { ...decodeDeviceInfo(raw), raw };
}

/** An INFO argument: header {argsz, flags 0x55 (ignored by the kernel), count} in a buffer of `size` bytes. */
export function infoBuffer(argsz: number, size = Math.max(argsz, 12), count = 0): Uint8Array {
  return encodeHotResetInfo({ argsz, flags: 0x55, count, devices: [] }, size);
}

/** One successful INFO call with `argsz` (and a buffer of that size unless given). */
export function hotResetInfoCall(
  k: SimKernel,
  d: number,
  argsz: number,
  size?: number,
): { buf: Uint8Array; info: HotResetInfo } {
  const buf = infoBuffer(argsz, size);
  k.sys.ioctl(d, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, buf);
  return { buf, info: decodeHotResetInfo(buf) };
}

/** Appendix A step 5: ENOSPC first, then a buffer big enough. */
export function hotResetInfo(k: SimKernel, d: number): HotResetInfo {
  const head = encodeHotResetInfo({ argsz: 12, flags: 0, count: 0, devices: [] });
  throwsErrno(() => k.sys.ioctl(d, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, head), 'ENOSPC', 'I4');
  const n = decodeHotResetInfo(head).count;
  return hotResetInfoCall(k, d, hotResetInfoSize(n)).info;
}

export function hotReset(
  k: SimKernel,
  d: number,
  fds: number[],
  over: { argsz?: number; flags?: number; count?: number } = {},
): number {
  const buf = encodeHotReset({
    argsz: over.argsz ?? 12 + 4 * fds.length,
    flags: over.flags ?? 0,
    count: over.count ?? fds.length,
    fds,
  });
  return k.sys.ioctl(d, VFIO.DEVICE_PCI_HOT_RESET, buf);
}

export function deviceView(k: SimKernel, bdf: string) {
  const v = k.vfioState().devices.find((d) => d.bdf === bdf);
  assert.ok(v, `${bdf} is a vfio device`);
  return v;
}

/** An eventfd as the trigger of a single-vector index (ERR, REQ): raw VFIO_DEVICE_SET_IRQS, as a VMM sends it. */
export function setIrqTrigger(k: SimKernel, device: number, index: number): number {
  const efd = k.sys.eventfd();
  const flags = VFIO_IRQ_SET.DATA_EVENTFD | VFIO_IRQ_SET.ACTION_TRIGGER;
  k.sys.ioctl(
    device,
    VFIO.DEVICE_SET_IRQS,
    encodeIrqSet({ argsz: 24, flags, index, start: 0, count: 1, data: [efd] }),
  );
  return efd;
}
