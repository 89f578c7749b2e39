/**
 * The bad-input matrix: for every ioctl the simulator answers (container, group, device, cdev,
 * iommufd, /dev/kvm, VM and KVM-VFIO device fds, /dev/null) and for open and close, the inputs a
 * careless or hostile caller can give — argsz below, at and above minsz, unknown flags, counts
 * 0 / 1 / N / N+1 / 2^31, negative, closed, duplicate and wrong-kind fds, truncated buffers and
 * raw pointers, calls on closed fds and calls in the wrong state — each with the errno the kernel
 * gives and the rule (kernel-semantics.md id, or the generic copy/fd rules) the simulator must name.
 * `kernel.ts` says which kernel function decides each rule.
 *
 * A case is a scenario step where the scenario language can say it (those marked `rig` are also
 * written to scenarios/conformance/ and checked on the real 6.1 kernel), or raw syscalls otherwise.
 */
import type { Era } from '../../../src/pci/era.ts';
import type { Step } from '../../../src/scenario/schema.ts';
import type { SimKernel } from '../../../src/sim/kernel.ts';
import type { ErrnoName } from '../../../src/uapi/errno.ts';
import { _IO, _IOW, IOMMUFD, KVM, KVMIO, VFIO, VFIO_TYPE } from '../../../src/uapi/ioctl.ts';
import {
  encodeBindIommufd,
  encodeCString,
  encodeDeviceInfo,
  encodeHotReset,
  encodeHotResetInfo,
  encodeIoasAlloc,
  encodeIommuDestroy,
  encodeKvmCreateDevice,
  encodeKvmDeviceAttr,
} from '../../../src/uapi/vfio-structs.ts';
import type { SetupToken, TopologyName } from './setups.ts';

/** `ok`, an errno, the call's value, or fields its value must contain (scenario `expect` semantics). */
export type Expect = 'ok' | ErrnoName | number | Record<string, unknown>;

export interface Outcome {
  expect: Expect;
  /** The simulator rule a refusal must name (`rules.ts`), null for a success. */
  rule: string | null;
}

export interface CaseEnv {
  k: SimKernel;
  /** The fd a setup handle stands for (or one `keep` named). */
  fd(handle: string): number;
  /** Names a value for the call (in `prepare`). */
  keep(handle: string, value: number): void;
}

export interface MatrixCase extends Outcome {
  /** The request (`VFIO_GROUP_GET_STATUS` …), or `open` / `close`. */
  ioctl: string;
  /** What is wrong with the input (or state). Unique per ioctl. */
  input: string;
  eras: readonly Era[];
  topo: TopologyName;
  setup: SetupToken[];
  /** The call as a scenario step (runs on any kernel) … */
  step?: Step;
  /** … or as raw syscalls, for inputs a scenario cannot write (short buffers, pointers as integers). */
  call?: (e: CaseEnv) => number;
  /** Raw syscalls or faults that complete the setup (before the state the call must not change). */
  prepare?: (e: CaseEnv) => void;
  /** Where an era answers differently. */
  byEra?: Partial<Record<Era, Outcome>>;
  /** Also checked against the real 6.1 kernel in the QEMU rig (written to scenarios/conformance/). */
  rig?: boolean;
  /** A success that changes kernel state (opens, attaches, resets): the rig runs it on its own. */
  changes?: boolean;
}

const ALL: readonly Era[] = ['2013', '6.1', '6.6+'];
const MODERN: readonly Era[] = ['6.1', '6.6+'];
const CDEV: readonly Era[] = ['6.6+'];

const UNKNOWN = 0x3b63; // _IO(';', 99): below VFIO_BASE, no VFIO fd knows it
const UUID = '3fa85f64-5717-4562-b3fc-2c963f66afa6';
const u32 = (b: Uint8Array, at: number, v: number) =>
  new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true);

/** Bytes of a struct with `argsz` (or `size`) at offset 0, `flags` at 4, and the rest zero. */
function header(size: number, first: number, flags = 0): Uint8Array {
  const b = new Uint8Array(size);
  if (size >= 4) u32(b, 0, first);
  if (size >= 8) u32(b, 4, flags);
  return b;
}

/** struct vfio_irq_set {argsz, flags, index, start, count, data[]}: ERR index, one int32 element. */
function irqSet(fd: number, flags = 0x04 | 0x20): Uint8Array {
  const b = header(24, 24, flags); // DATA_EVENTFD | ACTION_TRIGGER by default
  u32(b, 8, 3);
  u32(b, 16, 1);
  new DataView(b.buffer).setInt32(20, fd, true);
  return b;
}

/** A request by its uapi name (VFIO_GROUP_GET_STATUS …), or the unknown one by number. */
function requestLabel(request: number): string {
  const name = Object.entries(VFIO).find(([, v]) => v === request)?.[0];
  return name ? `VFIO_${name}` : `unknown _IO(';', ${request & 0xff})`;
}

const ok = (expect: Expect = 'ok'): Outcome => ({ expect, rule: null });
const no = (expect: ErrnoName, rule: string): Outcome => ({ expect, rule });

const cases: MatrixCase[] = [];
function add(c: MatrixCase): void {
  cases.push(c);
}

// ---- container: /dev/vfio/vfio (C1–C5) -------------------------------------------------------------

add({
  ioctl: 'VFIO_GET_API_VERSION',
  input: 'fresh container',
  eras: ALL,
  topo: 'rp',
  setup: ['container'],
  step: { 'api-version': 'c' },
  ...ok(0),
  rig: true,
});
add({
  ioctl: 'VFIO_GET_API_VERSION',
  input: 'an argument (ignored)',
  eras: ALL,
  topo: 'rp',
  setup: ['container'],
  step: { ioctl: { fd: 'c', request: 'VFIO_GET_API_VERSION', arg: 12345 } },
  ...ok(0),
  rig: true,
});
for (const [ext, v, name] of [
  [0, 0, 'extension 0'],
  [1, 1, 'TYPE1'],
  [2, 0, 'SPAPR_TCE (not on x86)'],
  [3, 1, 'TYPE1v2'],
  [5, 0, 'EEH (not on x86)'],
  [8, 0, 'NOIOMMU (unsafe mode off)'],
  [0xffffffff, 0, 'extension 0xffffffff'],
] as const) {
  add({
    ioctl: 'VFIO_CHECK_EXTENSION',
    input: name,
    eras: ALL,
    topo: 'rp',
    setup: ['container'],
    step: { 'check-extension': { container: 'c', ext } },
    ...ok(v),
    rig: true,
  });
}
add({
  ioctl: 'VFIO_CHECK_EXTENSION',
  input: 'UNMAP_ALL (6.x type1)',
  eras: ALL,
  topo: 'rp',
  setup: ['container'],
  step: { 'check-extension': { container: 'c', ext: 9 } },
  ...ok(1),
  byEra: { '2013': ok(0) },
  rig: true,
});

add({
  ioctl: 'VFIO_SET_IOMMU',
  input: 'no group attached',
  eras: ALL,
  topo: 'rp',
  setup: ['container'],
  step: { 'set-iommu': { container: 'c', type: 3 } },
  ...no('EINVAL', 'C4.no-group'),
  rig: true,
});
for (const [type, name] of [
  [0, 'type 0'],
  [2, 'SPAPR_TCE on x86'],
  [8, 'NOIOMMU (unsafe mode off)'],
  [0x7777, 'type 0x7777'],
  [0xffffffff, 'type 0xffffffff'],
] as const) {
  add({
    ioctl: 'VFIO_SET_IOMMU',
    input: name,
    eras: ALL,
    topo: 'rp',
    setup: ['attached'],
    step: { 'set-iommu': { container: 'c', type } },
    ...no('ENODEV', 'C4.no-backend'),
    rig: true,
  });
}
add({
  ioctl: 'VFIO_SET_IOMMU',
  input: 'a pointer instead of a type',
  eras: ALL,
  topo: 'rp',
  setup: ['attached'],
  call: (e) => e.k.sys.ioctl(e.fd('c'), VFIO.SET_IOMMU, new Uint8Array(4)),
  ...no('ENODEV', 'C4.no-backend'),
});
add({
  ioctl: 'VFIO_SET_IOMMU',
  input: 'IOMMU already set',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  step: { 'set-iommu': { container: 'c', type: 1 } },
  ...no('EINVAL', 'C4.iommu-set'),
  rig: true,
});
add({
  ioctl: 'VFIO_SET_IOMMU',
  input: 'TYPE1 with a group attached',
  eras: ALL,
  topo: 'rp',
  setup: ['attached'],
  step: { 'set-iommu': { container: 'c', type: 1 } },
  ...ok(0),
  rig: true,
  changes: true,
});

for (const [request, name] of [
  [UNKNOWN, 'unknown ioctl 0x3B63'],
  [VFIO.GROUP_GET_STATUS, 'a group ioctl'],
  [VFIO.DEVICE_GET_INFO, 'a device ioctl'],
] as const) {
  add({
    ioctl: requestLabel(request),
    input: `${name} on a container without IOMMU driver`,
    eras: ALL,
    topo: 'rp',
    setup: ['container'],
    step: { ioctl: { fd: 'c', request } },
    ...no('EINVAL', 'C5'),
    rig: true,
  });
  add({
    ioctl: requestLabel(request),
    input: `${name} on a container with type1`,
    eras: ALL,
    topo: 'rp',
    setup: ['iommu'],
    step: { ioctl: { fd: 'c', request } },
    ...no('ENOTTY', 'C5.type1'),
    rig: true,
  });
}

// VFIO_IOMMU_MAP_DMA / UNMAP_DMA: the mapping itself is not modelled, its argument checks are.
add({
  ioctl: 'VFIO_IOMMU_MAP_DMA',
  input: 'container without IOMMU driver',
  eras: ALL,
  topo: 'rp',
  setup: ['container'],
  step: { ioctl: { fd: 'c', request: 'VFIO_IOMMU_MAP_DMA', arg: 0 } },
  ...no('EINVAL', 'C5'),
  rig: true,
});
add({
  ioctl: 'VFIO_IOMMU_MAP_DMA',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  step: { ioctl: { fd: 'c', request: 'VFIO_IOMMU_MAP_DMA', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_IOMMU_UNMAP_DMA',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  step: { ioctl: { fd: 'c', request: 'VFIO_IOMMU_UNMAP_DMA', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
/** struct vfio_iommu_type1_dma_map { argsz, flags, u64 vaddr, u64 iova, u64 size } (32 bytes). */
function dmaMap(o: {
  argsz?: number;
  flags?: number;
  vaddr?: number;
  iova?: number;
  size?: number;
  bytes?: number;
}) {
  const b = header(o.bytes ?? 32, o.argsz ?? 32, o.flags ?? 3);
  const v = new DataView(b.buffer);
  if (b.byteLength >= 32) {
    v.setBigUint64(8, BigInt(o.vaddr ?? 0x7f0000000000), true);
    v.setBigUint64(16, BigInt(o.iova ?? 0), true);
    v.setBigUint64(24, BigInt(o.size ?? 0x1000), true);
  }
  return b;
}
/** struct vfio_iommu_type1_dma_unmap { argsz, flags, u64 iova, u64 size } (24 bytes). */
function dmaUnmap(o: { argsz?: number; flags?: number; iova?: number; size?: number; bytes?: number }) {
  const b = header(o.bytes ?? 24, o.argsz ?? 24, o.flags ?? 0);
  const v = new DataView(b.buffer);
  if (b.byteLength >= 24) {
    v.setBigUint64(8, BigInt(o.iova ?? 0), true);
    v.setBigUint64(16, BigInt(o.size ?? 0x1000), true);
  }
  return b;
}
for (const [name, arg, out] of [
  ['argsz 31 (minsz 32)', dmaMap({ argsz: 31 }), no('EINVAL', 'C5.dma-args')],
  ['unknown flag 0x80', dmaMap({ flags: 0x83 }), no('EINVAL', 'C5.dma-args')],
  ['neither READ nor WRITE', dmaMap({ flags: 0 }), no('EINVAL', 'C5.dma-args')],
  ['size 0', dmaMap({ size: 0 }), no('EINVAL', 'C5.dma-args')],
  ['iova not page aligned', dmaMap({ iova: 0x10 }), no('EINVAL', 'C5.dma-args')],
  ['iova + size wraps', dmaMap({ iova: 0xfffffffffffff000, size: 0x2000 }), no('EINVAL', 'C5.dma-args')],
  ['16-byte buffer', dmaMap({ bytes: 16 }), no('EFAULT', 'copy_from_user')],
  ['a valid page', dmaMap({}), ok(0)],
] as const) {
  add({
    ioctl: 'VFIO_IOMMU_MAP_DMA',
    input: name,
    eras: ALL,
    topo: 'rp',
    setup: ['iommu'],
    call: (e) => e.k.sys.ioctl(e.fd('c'), VFIO.IOMMU_MAP_DMA, arg.slice()),
    ...out,
  });
}
for (const [name, arg, out] of [
  ['argsz 23 (minsz 24)', dmaUnmap({ argsz: 23 }), no('EINVAL', 'C5.dma-args')],
  ['unknown flag 0x80', dmaUnmap({ flags: 0x80 }), no('EINVAL', 'C5.dma-args')],
  ['12-byte buffer', dmaUnmap({ bytes: 12 }), no('EFAULT', 'copy_from_user')],
] as const) {
  add({
    ioctl: 'VFIO_IOMMU_UNMAP_DMA',
    input: name,
    eras: ALL,
    topo: 'rp',
    setup: ['iommu'],
    call: (e) => e.k.sys.ioctl(e.fd('c'), VFIO.IOMMU_UNMAP_DMA, arg.slice()),
    ...out,
  });
}

// ---- group: /dev/vfio/N (G1–G8) ------------------------------------------------------------------

add({
  ioctl: 'open',
  input: 'the group open twice',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  step: { 'open-group': '0000:01:00.0' },
  ...no('EBUSY', 'G2'),
  rig: true,
});
add({
  ioctl: 'open',
  input: '/dev/vfio/999 (no such group)',
  eras: ALL,
  topo: 'rp',
  setup: [],
  step: { open: '/dev/vfio/999' },
  ...no('ENOENT', 'G1'),
  rig: true,
});
add({
  ioctl: 'open',
  input: '/dev/vfio/noiommu-0 (no-IOMMU mode off)',
  eras: ALL,
  topo: 'rp',
  setup: [],
  step: { open: '/dev/vfio/noiommu-0' },
  ...no('ENOENT', 'open.ENOENT'),
  rig: true,
});

for (const [argsz, out] of [
  [0, no('EINVAL', 'G3.argsz')],
  [7, no('EINVAL', 'G3.argsz')],
  [8, ok({ flags: 1 })],
  [9, ok({ flags: 1 })],
  [0xffffffff, ok({ flags: 1 })],
] as const) {
  add({
    ioctl: 'VFIO_GROUP_GET_STATUS',
    input: `argsz ${argsz} (minsz 8)`,
    eras: ALL,
    topo: 'rp',
    setup: ['group'],
    step: { 'group-status': { group: 'g', argsz } },
    ...out,
    rig: true,
  });
}
add({
  ioctl: 'VFIO_GROUP_GET_STATUS',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  step: { ioctl: { fd: 'g', request: 'VFIO_GROUP_GET_STATUS', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_GROUP_GET_STATUS',
  input: '4-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  call: (e) => e.k.sys.ioctl(e.fd('g'), VFIO.GROUP_GET_STATUS, header(4, 8)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_GROUP_GET_STATUS',
  input: 'flags 0xffffffff on input (ignored)',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  call: (e) => e.k.sys.ioctl(e.fd('g'), VFIO.GROUP_GET_STATUS, header(8, 8, 0xffffffff)),
  ...ok(0),
});
add({
  ioctl: 'VFIO_GROUP_GET_STATUS',
  input: 'attached to a container',
  eras: ALL,
  topo: 'rp',
  setup: ['attached'],
  step: { 'group-status': { group: 'g' } },
  ...ok({ flags: 3 }),
  rig: true,
});

const setContainer = (
  fd: string | number,
  input: string,
  out: Outcome,
  byEra: MatrixCase['byEra'],
  rig = true,
  setup: SetupToken[] = ['group', 'null', 'closed'],
) =>
  add({
    ioctl: 'VFIO_GROUP_SET_CONTAINER',
    input,
    eras: ALL,
    topo: 'rp',
    setup,
    step: { 'set-container': { group: 'g', container: fd } },
    ...out,
    byEra: byEra ?? {},
    rig,
  });
setContainer(-1, 'fd -1', no('EBADF', 'G4.fd'), { '2013': no('EINVAL', 'G4.fd-negative') });
setContainer(-2147483648, 'fd INT_MIN', no('EBADF', 'G4.fd'), { '2013': no('EINVAL', 'G4.fd-negative') });
setContainer(987, 'an fd that is not open', no('EBADF', 'G4.fd'), {});
setContainer('x', 'a closed fd', no('EBADF', 'G4.fd'), {});
setContainer('n', '/dev/null', no('EINVAL', 'G4.not-container'), {
  '6.6+': no('EBADFD', 'G4.not-container-6.6'),
});
setContainer('g', 'the group fd itself', no('EINVAL', 'G4.not-container'), {
  '6.6+': no('EBADFD', 'G4.not-container-6.6'),
});
setContainer('c', 'the same container again', no('EINVAL', 'G4.has-container'), {}, true, ['attached']);
setContainer('c', 'a container', ok(), {}, true, ['group']);
cases[cases.length - 1]!.changes = true;
add({
  ioctl: 'VFIO_GROUP_SET_CONTAINER',
  input: 'a device fd (of another group)',
  eras: ALL,
  topo: 'm2g',
  setup: ['device', 'other-group'],
  step: { 'set-container': { group: 'g2', container: 'd' } },
  ...no('EINVAL', 'G4.not-container'),
  byEra: { '6.6+': no('EBADFD', 'G4.not-container-6.6') },
});
add({
  ioctl: 'VFIO_GROUP_SET_CONTAINER',
  input: '/dev/kvm',
  eras: ALL,
  topo: 'rp',
  setup: ['group', 'kvm'],
  step: { 'set-container': { group: 'g', container: 'kv' } },
  ...no('EINVAL', 'G4.not-container'),
  byEra: { '6.6+': no('EBADFD', 'G4.not-container-6.6') },
});
add({
  ioctl: 'VFIO_GROUP_SET_CONTAINER',
  input: 'an iommufd (compat)',
  eras: CDEV,
  topo: 'rp',
  setup: ['group', 'iommufd'],
  step: { 'set-container': { group: 'g', container: 'i' } },
  ...ok(),
  changes: true,
});
add({
  ioctl: 'VFIO_GROUP_SET_CONTAINER',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  step: { ioctl: { fd: 'g', request: 'VFIO_GROUP_SET_CONTAINER', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_GROUP_SET_CONTAINER',
  input: '2-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  call: (e) => e.k.sys.ioctl(e.fd('g'), VFIO.GROUP_SET_CONTAINER, new Uint8Array(2)),
  ...no('EFAULT', 'copy_from_user'),
});

add({
  ioctl: 'VFIO_GROUP_UNSET_CONTAINER',
  input: 'no container',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  step: { 'unset-container': 'g' },
  ...no('EINVAL', 'G5.no-container'),
  rig: true,
});
add({
  ioctl: 'VFIO_GROUP_UNSET_CONTAINER',
  input: 'a device fd open',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { 'unset-container': 'g' },
  ...no('EBUSY', 'G5.busy'),
  rig: true,
});
add({
  ioctl: 'VFIO_GROUP_UNSET_CONTAINER',
  input: 'attached, no device open',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  step: { 'unset-container': 'g' },
  ...ok(0),
  rig: true,
  changes: true,
});
add({
  ioctl: 'VFIO_GROUP_UNSET_CONTAINER',
  input: 'an argument (ignored)',
  eras: ALL,
  topo: 'rp',
  setup: ['group'],
  step: { ioctl: { fd: 'g', request: 'VFIO_GROUP_UNSET_CONTAINER', arg: 1 } },
  ...no('EINVAL', 'G5.no-container'),
  rig: true,
});

const getDevice = (
  name: string,
  input: string,
  out: Outcome,
  setup: SetupToken[],
  extra: Partial<MatrixCase> = {},
) =>
  add({
    ioctl: 'VFIO_GROUP_GET_DEVICE_FD',
    input,
    eras: ALL,
    topo: 'rp',
    setup,
    step: { 'get-device': { group: 'g', device: name } },
    ...out,
    // Scenario files take only PCI addresses here; names with options run on the simulator alone.
    rig: /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ?$/.test(name),
    ...extra,
  });
getDevice('0000:01:00.0', 'no container', no('EINVAL', 'G7.no-container'), ['group']);
getDevice('0000:01:00.0', 'container without IOMMU driver', no('EINVAL', 'G7.no-container'), ['attached']);
getDevice('0000:ff:1f.7', 'a device not in the group', no('ENODEV', 'G7.no-device'), ['iommu']);
getDevice('', 'an empty name', no('ENODEV', 'G7.no-device'), ['iommu']);
getDevice('01:00.0', 'the short form of the name', no('ENODEV', 'G7.no-device'), ['iommu']);
getDevice('0000:01:00.0x', 'trailing garbage', no('ENODEV', 'G7.no-device'), ['iommu']);
getDevice('0000:01:00.0 ', 'a trailing space', ok(), ['iommu'], {
  byEra: { '2013': no('ENODEV', 'G7.no-device') },
  changes: true,
});
getDevice('0000:01:00.0 foo=1', 'an unknown option', no('EINVAL', 'G7.option'), ['iommu'], {
  byEra: { '2013': no('ENODEV', 'G7.no-device') },
});
getDevice('0000:01:00.0 vf_token=', 'a short vf_token', no('EINVAL', 'G7.option'), ['iommu'], {
  byEra: { '2013': no('ENODEV', 'G7.no-device') },
});
getDevice(
  `0000:01:00.0 vf_token=${UUID}`,
  'a vf_token for a device that is no PF or VF',
  no('EINVAL', 'G7.vf-token'),
  ['iommu'],
  { byEra: { '2013': no('ENODEV', 'G7.no-device') } },
);
getDevice(
  `0000:01:00.0 vf_token=${UUID} vf_token=${UUID}`,
  'a duplicate vf_token',
  no('EINVAL', 'G7.option'),
  ['iommu'],
  { byEra: { '2013': no('ENODEV', 'G7.no-device') } },
);
getDevice('0000:01:00.0', 'a second fd for an open device', ok(), ['device'], { changes: true });
add({
  ioctl: 'VFIO_GROUP_GET_DEVICE_FD',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  step: { ioctl: { fd: 'g', request: 'VFIO_GROUP_GET_DEVICE_FD', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_GROUP_GET_DEVICE_FD',
  input: 'a name without its NUL inside the buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  call: (e) => e.k.sys.ioctl(e.fd('g'), VFIO.GROUP_GET_DEVICE_FD, new TextEncoder().encode('0000:01:00.0')),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_GROUP_GET_DEVICE_FD',
  input: 'a 4096-character name (longer than a page with its NUL)',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  call: (e) =>
    e.k.sys.ioctl(e.fd('g'), VFIO.GROUP_GET_DEVICE_FD, encodeCString(`0000:01:00.0 ${'x'.repeat(4083)}`)),
  ...no('EINVAL', 'strndup_user'),
});
add({
  ioctl: 'VFIO_GROUP_GET_DEVICE_FD',
  input: 'a 4095-character name (fits a page)',
  eras: ALL,
  topo: 'rp',
  setup: ['iommu'],
  call: (e) => e.k.sys.ioctl(e.fd('g'), VFIO.GROUP_GET_DEVICE_FD, encodeCString('y'.repeat(4095))),
  ...no('ENODEV', 'G7.no-device'),
});

for (const [request, name] of [
  [UNKNOWN, 'unknown ioctl 0x3B63'],
  [VFIO.GET_API_VERSION, 'a container ioctl'],
  [VFIO.DEVICE_GET_INFO, 'a device ioctl'],
  [VFIO.DEVICE_BIND_IOMMUFD, 'BIND_IOMMUFD'],
] as const) {
  add({
    ioctl: requestLabel(request),
    input: `${name} on a group fd`,
    eras: ALL,
    topo: 'rp',
    setup: ['group'],
    step: { ioctl: { fd: 'g', request } },
    ...no('ENOTTY', 'G8'),
    rig: true,
  });
}

// ---- device fd, group path (D2–D4, I1–I11, H1–H24) -----------------------------------------------

for (const [argsz, out] of [
  [0, no('EINVAL', 'D2.argsz')],
  [15, no('EINVAL', 'D2.argsz')],
  [16, ok({ flags: 3, numRegions: 9 })],
  [17, ok({ flags: 3 })],
  [20, ok({ flags: 3 })],
  [24, ok({ flags: 3 })],
  [4096, ok({ flags: 3 })],
] as const) {
  add({
    ioctl: 'VFIO_DEVICE_GET_INFO',
    input: `argsz ${argsz} (minsz 16)`,
    eras: ALL,
    topo: 'rp',
    setup: ['device'],
    step: { 'device-info': { device: 'd', argsz } },
    ...out,
    rig: true,
  });
}
add({
  ioctl: 'VFIO_DEVICE_GET_INFO',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_GET_INFO', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_GET_INFO',
  input: '8-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_INFO, header(8, 24)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_GET_INFO',
  input: 'argsz 24 in a 16-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_INFO, header(16, 24)),
  ...no('EFAULT', 'copy_to_user'),
  byEra: { '2013': ok(0) },
});
add({
  ioctl: 'VFIO_DEVICE_GET_INFO',
  input: 'argsz 0xffffffff in a 24-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_INFO, header(24, 0xffffffff)),
  ...ok(0),
});
add({
  ioctl: 'VFIO_DEVICE_GET_INFO',
  input: 'flags 0xffffffff on input (ignored)',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('d'),
      VFIO.DEVICE_GET_INFO,
      encodeDeviceInfo({ argsz: 24, flags: 0xffffffff, numRegions: 7, numIrqs: 7, capOffset: 7 }),
    ),
  ...ok(0),
});

add({
  ioctl: 'VFIO_DEVICE_RESET',
  input: 'reset_works false (PPB: its only method is a stale bus)',
  eras: ALL,
  topo: 'ppb',
  setup: ['device'],
  step: { reset: 'd' },
  ...no('EINVAL', 'D3.no-reset'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_RESET',
  input: 'an argument (ignored)',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_RESET', arg: 0xdead } },
  ...ok(0),
  rig: true,
  changes: true,
});
add({
  ioctl: 'VFIO_DEVICE_RESET',
  input: 'another thread holds the device lock',
  eras: MODERN,
  topo: 'rp',
  setup: ['device'],
  prepare: (e) => e.k.inject({ bdf: '0000:01:00.0', kind: 'hold-device-lock', held: true }),
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_RESET),
  ...no('EAGAIN', 'D3.EAGAIN'),
});

for (const [argsz, out] of [
  [0, no('EINVAL', 'I1')],
  [11, no('EINVAL', 'I1')],
  [12, no('ENOSPC', 'I4')],
  [19, no('ENOSPC', 'I4')],
  [20, ok({ count: 1, flags: 0 })],
  [4096, ok({ count: 1, flags: 0 })],
] as const) {
  const expect = out.expect === 'ENOSPC' ? { errno: 'ENOSPC', count: 1, flags: 0, argsz } : out.expect;
  add({
    ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
    input: `argsz ${argsz} (minsz 12, one device needs 20)`,
    eras: ALL,
    topo: 'rp',
    setup: ['device'],
    step: { 'hot-reset-info': { device: 'd', argsz } },
    expect,
    rule: out.rule,
    rig: true,
  });
}
add({
  ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  input: 'two devices, room for one (PPB)',
  eras: ALL,
  topo: 'ppb',
  setup: ['device'],
  step: { 'hot-reset-info': { device: 'd', argsz: 20 } },
  expect: { errno: 'ENOSPC', count: 2 },
  rule: 'I4',
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  input: '8-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, header(8, 20)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  input: 'argsz 20 in a 12-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, header(12, 20)),
  ...no('EFAULT', 'copy_to_user'),
});
add({
  ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  input: 'argsz 0xffffffff, count and flags 0xffffffff on input (ignored)',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('d'),
      VFIO.DEVICE_GET_PCI_HOT_RESET_INFO,
      encodeHotResetInfo({ argsz: 0xffffffff, flags: 0xffffffff, count: 0xffffffff, devices: [] }, 20),
    ),
  ...ok(0),
});
add({
  ioctl: 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
  input: 'a device on the root bus',
  eras: ALL,
  topo: 'root',
  setup: ['device'],
  step: { 'hot-reset-info': { device: 'd' } },
  ...no('ENODEV', 'I2'),
  rig: true,
});

const hotReset = (
  input: string,
  s: { fds?: (string | number)[]; argsz?: number; flags?: number; count?: number },
  out: Outcome,
  extra: Partial<MatrixCase> = {},
) =>
  add({
    ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
    input,
    eras: ALL,
    topo: 'ppb',
    setup: ['device', 'null', 'closed'],
    step: { 'hot-reset': { device: 'd', ...s } },
    ...out,
    rig: true,
    ...extra,
  });
hotReset('argsz 0', { fds: ['g'], argsz: 0 }, no('EINVAL', 'H1'));
hotReset('argsz 11 (minsz 12)', { fds: ['g'], argsz: 11 }, no('EINVAL', 'H1'));
hotReset('argsz 12 with one fd (argsz is not checked against count)', { fds: ['g'], argsz: 12 }, ok(0), {
  changes: true,
});
hotReset('argsz 0xffffffff', { fds: ['g'], argsz: 0xffffffff }, ok(0), { changes: true });
hotReset('flags 1', { fds: ['g'], flags: 1 }, no('EINVAL', 'H1'));
hotReset('flags 0x80000000', { fds: ['g'], flags: 0x80000000 }, no('EINVAL', 'H1'));
hotReset('count 0', { fds: [] }, no('EINVAL', 'H3'), { byEra: { '6.6+': no('EINVAL', 'H20') } });
hotReset('count 1 (the group)', { fds: ['g'] }, ok(0), { changes: true });
hotReset('count N = 2, the same group twice', { fds: ['g', 'g'] }, ok(0), { changes: true });
hotReset('count N+1 = 3', { fds: ['g', 'g', 'g'] }, no('EINVAL', 'H3'));
hotReset('count 2^31', { fds: ['g'], count: 0x80000000 }, no('EINVAL', 'H3'));
hotReset('count 0xffffffff', { fds: ['g'], count: 0xffffffff }, no('EINVAL', 'H3'));
hotReset('fd -1', { fds: [-1] }, no('EBADF', 'H5.fd'));
hotReset('fd INT_MIN', { fds: [-2147483648] }, no('EBADF', 'H5.fd'));
hotReset('an fd that is not open', { fds: [987] }, no('EBADF', 'H5.fd'));
hotReset('a closed fd', { fds: ['x'] }, no('EBADF', 'H5.fd'));
hotReset('the container fd', { fds: ['c'] }, no('EINVAL', 'H5.not-group'), {
  byEra: { '2013': no('EINVAL', 'E1.not-group') },
});
hotReset('the device fd', { fds: ['d'] }, no('EINVAL', 'H5.not-group'), {
  byEra: { '2013': no('EINVAL', 'E1.not-group') },
});
hotReset('/dev/null', { fds: ['n'] }, no('EINVAL', 'H5.not-group'), {
  byEra: { '2013': no('EINVAL', 'E1.not-group') },
});
hotReset('[group, not open]: the first bad fd decides', { fds: ['g', 987] }, no('EBADF', 'H5.fd'));
hotReset('[not open, container]', { fds: [987, 'c'] }, no('EBADF', 'H5.fd'));
hotReset('[container, not open]', { fds: ['c', 987] }, no('EINVAL', 'H5.not-group'), {
  byEra: { '2013': no('EINVAL', 'E1.not-group') },
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'count 2 (N = 1 on RP)',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { 'hot-reset': { device: 'd', fds: ['g', 'g'] } },
  ...no('EINVAL', 'H3'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'a device on the root bus',
  eras: ALL,
  topo: 'root',
  setup: ['device'],
  step: { 'hot-reset': { device: 'd', fds: ['g'] } },
  ...no('ENODEV', 'H2'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'flags 1 on the root bus (flags are checked first)',
  eras: ALL,
  topo: 'root',
  setup: ['device'],
  step: { 'hot-reset': { device: 'd', fds: ['g'], flags: 1 } },
  ...no('EINVAL', 'H1'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'ppb',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_PCI_HOT_RESET', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: '8-byte buffer',
  eras: ALL,
  topo: 'ppb',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_PCI_HOT_RESET, header(8, 16)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'count 2 with one fd in the buffer',
  eras: ALL,
  topo: 'ppb',
  setup: ['device'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('d'),
      VFIO.DEVICE_PCI_HOT_RESET,
      encodeHotReset({ argsz: 20, flags: 0, count: 2, fds: [e.fd('g')] }),
    ),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'only the caller’s group of two (M-2G)',
  eras: ALL,
  topo: 'm2g',
  setup: ['device'],
  step: { 'hot-reset': { device: 'd', fds: ['g'] } },
  ...no('EINVAL', 'H8.group'),
  byEra: { '2013': no('EINVAL', 'H2013.group') },
});
const hotResetG = (e: CaseEnv) =>
  e.k.sys.ioctl(
    e.fd('d'),
    VFIO.DEVICE_PCI_HOT_RESET,
    encodeHotReset({ argsz: 16, flags: 0, count: 1, fds: [e.fd('g')] }),
  );
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'a dev_set member’s memory lock held',
  eras: MODERN,
  topo: 'ppb',
  setup: ['device'],
  prepare: (e) => e.k.inject({ bdf: '0000:02:01.1', kind: 'hold-memory-lock', held: true }),
  call: hotResetG,
  ...no('EBUSY', 'H8.memory'),
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'another thread holds a scope device’s lock',
  eras: MODERN,
  topo: 'ppb',
  setup: ['device'],
  prepare: (e) => e.k.inject({ bdf: '0000:02:01.1', kind: 'hold-device-lock', held: true }),
  call: hotResetG,
  ...no('EAGAIN', 'H9.EAGAIN'),
});

for (const [request, name] of [
  [UNKNOWN, 'unknown ioctl 0x3B63'],
  [VFIO.GET_API_VERSION, 'a container ioctl'],
  [VFIO.GROUP_GET_STATUS, 'a group ioctl'],
  [VFIO.DEVICE_ATTACH_IOMMUFD_PT, 'ATTACH_IOMMUFD_PT on a group-obtained fd'],
] as const) {
  add({
    ioctl: requestLabel(request),
    input: `${name} on a device fd`,
    eras: ALL,
    topo: 'rp',
    setup: ['device'],
    step: { ioctl: { fd: 'd', request } },
    ...no('ENOTTY', 'D4'),
    rig: true,
  });
}
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: 'on a group-obtained device fd',
  eras: CDEV,
  topo: 'rp',
  setup: ['device', 'iommufd'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('d'),
      VFIO.DEVICE_BIND_IOMMUFD,
      encodeBindIommufd({ argsz: 16, flags: 0, iommufd: e.fd('i'), outDevid: 0 }),
    ),
  ...no('EINVAL', 'K3.group-fd'),
});
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: 'on a device fd of a kernel without it',
  eras: ['2013', '6.1'],
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_BIND_IOMMUFD', arg: 0 } },
  ...no('ENOTTY', 'D4'),
  rig: true,
});

// ---- device fd: regions and interrupts (vfio_pci_ioctl_get_region_info, _get_irq_info, _set_irqs) ------

for (const [input, index, argsz, out] of [
  ['argsz 0', 'config', 0, no('EINVAL', 'REGION_INFO.argsz')],
  ['argsz 31 (minsz 32)', 'config', 31, no('EINVAL', 'REGION_INFO.argsz')],
  ['argsz 32, config space', 'config', 32, ok()],
  ['argsz 4096, config space', 'config', 4096, ok()],
  ['BAR0', 0, 32, ok()],
  ['the ROM', 'rom', 32, ok()],
  ['VGA (vfio-pci VGA support off)', 'vga', 32, no('EINVAL', 'REGION_INFO.index')],
  ['index 9 (no device-specific regions)', 9, 32, no('EINVAL', 'REGION_INFO.index')],
  ['index 0xffffffff', 0xffffffff, 32, no('EINVAL', 'REGION_INFO.index')],
] as const) {
  add({
    ioctl: 'VFIO_DEVICE_GET_REGION_INFO',
    input,
    eras: ALL,
    topo: 'rp',
    setup: ['device'],
    step: { 'region-info': { device: 'd', index, argsz } },
    ...out,
    rig: true,
  });
}
add({
  ioctl: 'VFIO_DEVICE_GET_REGION_INFO',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_GET_REGION_INFO', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_GET_REGION_INFO',
  input: '16-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_REGION_INFO, header(16, 32)),
  ...no('EFAULT', 'copy_from_user'),
});

for (const [input, index, argsz, eras, out] of [
  ['argsz 0', 'err', 0, ALL, no('EINVAL', 'IRQ_INFO.args')],
  ['argsz 15 (minsz 16)', 'err', 15, ALL, no('EINVAL', 'IRQ_INFO.args')],
  ['argsz 16, the ERR index of a PCIe function', 'err', 16, ALL, ok({ count: 1 })],
  ['argsz 4096', 'err', 4096, ALL, ok({ count: 1 })],
  ['the REQ index (4.0+)', 'req', 16, MODERN, ok({ count: 1 })],
  ['index 4 before REQ existed', 4, 16, ['2013'], no('EINVAL', 'IRQ_INFO.args')],
  ['index 5 (VFIO_PCI_NUM_IRQS)', 5, 16, ALL, no('EINVAL', 'IRQ_INFO.args')],
  ['index 0xffffffff', 0xffffffff, 16, ALL, no('EINVAL', 'IRQ_INFO.args')],
] as const) {
  add({
    ioctl: 'VFIO_DEVICE_GET_IRQ_INFO',
    input,
    eras,
    topo: 'rp',
    setup: ['device'],
    step: { 'irq-info': { device: 'd', index, argsz } },
    ...out,
    rig: (eras as readonly Era[]).includes('6.1'),
  });
}
add({
  ioctl: 'VFIO_DEVICE_GET_IRQ_INFO',
  input: 'the ERR index of a conventional PCI function (PPB)',
  eras: ALL,
  topo: 'ppb',
  setup: ['device'],
  step: { 'irq-info': { device: 'd', index: 'err' } },
  ...no('EINVAL', 'IRQ_INFO.err-not-pcie'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_GET_IRQ_INFO',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_GET_IRQ_INFO', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});
add({
  ioctl: 'VFIO_DEVICE_GET_IRQ_INFO',
  input: '8-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_GET_IRQ_INFO, header(8, 16)),
  ...no('EFAULT', 'copy_from_user'),
});

type SetIrq = {
  index?: string | number;
  fd?: string | number;
  data?: 'none' | 'bool' | 'eventfd';
  action?: 'trigger' | 'mask' | 'unmask';
  value?: number;
  start?: number;
  count?: number;
  argsz?: number;
};
const setIrq = (
  input: string,
  s: SetIrq,
  out: Outcome,
  eras: readonly Era[] = MODERN,
  extra: Partial<MatrixCase> = {},
) =>
  add({
    ioctl: 'VFIO_DEVICE_SET_IRQS',
    input,
    eras,
    topo: 'rp',
    setup: ['device', 'null', 'closed'],
    step: { 'set-irq': { device: 'd', index: s.index ?? 'err', fd: s.fd ?? -1, ...s } } as Step,
    ...out,
    rig: eras.includes('6.1'),
    ...extra,
  });
setIrq('argsz 0', { argsz: 0 }, no('EINVAL', 'SET_IRQS.args'), ALL);
setIrq('argsz 19 (minsz 20)', { argsz: 19 }, no('EINVAL', 'SET_IRQS.args'), ALL);
setIrq('argsz 20, no room for the one eventfd', { argsz: 20 }, no('EINVAL', 'SET_IRQS.data'));
setIrq('index 5 (VFIO_PCI_NUM_IRQS)', { index: 5 }, no('EINVAL', 'SET_IRQS.args'), ALL);
setIrq('count 0xffffffff (start + count overflows)', { count: 0xffffffff }, no('EINVAL', 'SET_IRQS.args'));
setIrq('start 1 on the one-vector ERR index', { start: 1 }, no('EINVAL', 'SET_IRQS.range'));
setIrq('count 2 on the one-vector ERR index', { count: 2, argsz: 28 }, no('EINVAL', 'SET_IRQS.range'));
setIrq('ACTION_MASK on the ERR index', { action: 'mask' }, no('ENOTTY', 'SET_IRQS.action'));
setIrq('ACTION_UNMASK on the REQ index', { index: 'req', action: 'unmask' }, no('ENOTTY', 'SET_IRQS.action'));
setIrq('DATA_NONE with no trigger set', { data: 'none' }, no('EINVAL', 'SET_IRQS.single'));
setIrq('DATA_BOOL with count 0', { data: 'bool', value: 1, count: 0 }, no('EINVAL', 'SET_IRQS.single'));
setIrq('trigger fd -1 with none set (teardown)', { fd: -1 }, ok(0), ALL);
setIrq('trigger fd -5 (neither -1 nor an fd: ignored)', { fd: -5 }, ok(0));
setIrq('a trigger fd that is not open', { fd: 987 }, no('EBADF', 'SET_IRQS.fd'));
setIrq('a closed trigger fd', { fd: 'x' }, no('EBADF', 'SET_IRQS.fd'));
setIrq('/dev/null as trigger', { fd: 'n' }, no('EINVAL', 'SET_IRQS.not-eventfd'));
setIrq('the device fd as trigger', { fd: 'd' }, no('EINVAL', 'SET_IRQS.not-eventfd'));
add({
  ioctl: 'VFIO_DEVICE_SET_IRQS',
  input: 'an eventfd as the ERR trigger',
  eras: MODERN,
  topo: 'rp',
  setup: ['device'],
  prepare: (e) => e.keep('ev', e.k.sys.eventfd!()),
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_SET_IRQS, irqSet(e.fd('ev'))),
  ...ok(0),
  changes: true,
});
add({
  ioctl: 'VFIO_DEVICE_SET_IRQS',
  input: 'unknown flag bits 0x40',
  eras: MODERN,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_SET_IRQS, irqSet(-1, 0x40 | 0x04 | 0x20)),
  ...no('EINVAL', 'SET_IRQS.args'),
});
add({
  ioctl: 'VFIO_DEVICE_SET_IRQS',
  input: 'two data types at once',
  eras: MODERN,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_SET_IRQS, irqSet(-1, 0x01 | 0x02 | 0x20)),
  ...no('EINVAL', 'SET_IRQS.data'),
});
add({
  ioctl: 'VFIO_DEVICE_SET_IRQS',
  input: 'count 1 but the eventfd cut off',
  eras: MODERN,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_SET_IRQS, irqSet(-1).subarray(0, 22)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_SET_IRQS',
  input: '12-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  call: (e) => e.k.sys.ioctl(e.fd('d'), VFIO.DEVICE_SET_IRQS, irqSet(-1).subarray(0, 12)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_SET_IRQS',
  input: 'NULL pointer',
  eras: ALL,
  topo: 'rp',
  setup: ['device'],
  step: { ioctl: { fd: 'd', request: 'VFIO_DEVICE_SET_IRQS', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
  rig: true,
});

// ---- cdev: /dev/vfio/devices/vfioN [6.6+] (K1–K7) ------------------------------------------------

add({
  ioctl: 'open',
  input: '/dev/vfio/devices/vfio99 (no such device)',
  eras: CDEV,
  topo: 'rp',
  setup: [],
  step: { open: '/dev/vfio/devices/vfio99' },
  ...no('ENOENT', 'open.ENOENT'),
});
add({
  ioctl: 'open',
  input: '/dev/vfio/devices/vfio0 before 6.6',
  eras: ['2013', '6.1'],
  topo: 'rp',
  setup: [],
  step: { open: '/dev/vfio/devices/vfio0' },
  ...no('ENOENT', 'open.ENOENT'),
});
add({
  ioctl: 'open',
  input: '/dev/iommu before 6.6',
  eras: ['2013', '6.1'],
  topo: 'rp',
  setup: [],
  step: { open: '/dev/iommu' },
  ...no('ENOENT', 'open.ENOENT'),
});
for (const [verb, step] of [
  ['VFIO_DEVICE_GET_INFO', { 'device-info': { device: 'u' } }],
  ['VFIO_DEVICE_RESET', { reset: 'u' }],
  ['VFIO_DEVICE_GET_PCI_HOT_RESET_INFO', { 'hot-reset-info': { device: 'u' } }],
  ['VFIO_DEVICE_PCI_HOT_RESET', { 'hot-reset': { device: 'u' } }],
  ['VFIO_DEVICE_ATTACH_IOMMUFD_PT', { 'attach-pt': { device: 'u', pt: 1 } }],
  ['VFIO_DEVICE_DETACH_IOMMUFD_PT', { 'detach-pt': { device: 'u' } }],
  ['VFIO_DEVICE_GET_REGION_INFO', { 'region-info': { device: 'u', index: 'config' } }],
  ['VFIO_DEVICE_GET_IRQ_INFO', { 'irq-info': { device: 'u', index: 'err' } }],
  ['VFIO_DEVICE_SET_IRQS', { 'set-irq': { device: 'u', index: 'err', fd: -1 } }],
  ["unknown _IO(';', 99)", { ioctl: { fd: 'u', request: UNKNOWN } }],
] as [string, Step][]) {
  add({
    ioctl: verb,
    input: 'on a cdev fd before BIND_IOMMUFD',
    eras: CDEV,
    topo: 'rp',
    setup: ['cdev'],
    step,
    ...no('EINVAL', 'K2'),
  });
}
const bind = (
  input: string,
  s: { iommufd?: string | number; argsz?: number; flags?: number },
  out: Outcome,
  setup: SetupToken[] = ['cdev', 'null', 'closed'],
  extra: Partial<MatrixCase> = {},
) =>
  add({
    ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
    input,
    eras: CDEV,
    topo: 'rp',
    setup,
    step: {
      'bind-iommufd': {
        device: 'u',
        iommufd: s.iommufd ?? 'i',
        ...(s.argsz !== undefined ? { argsz: s.argsz } : {}),
        ...(s.flags !== undefined ? { flags: s.flags } : {}),
      },
    },
    ...out,
    ...extra,
  });
bind('argsz 0', { argsz: 0 }, no('EINVAL', 'K3.args'));
bind('argsz 15 (minsz 16)', { argsz: 15 }, no('EINVAL', 'K3.args'));
bind('argsz 16', { argsz: 16 }, ok(1), undefined, { changes: true });
bind('argsz 4096 (only minsz is copied)', { argsz: 4096 }, ok(1), undefined, { changes: true });
bind('flags 2', { flags: 2 }, no('EINVAL', 'K3.args'));
bind('flags 0x80000000', { flags: 0x80000000 }, no('EINVAL', 'K3.args'));
bind('iommufd -1', { iommufd: -1 }, no('EINVAL', 'K3.args'));
bind('iommufd INT_MIN', { iommufd: -2147483648 }, no('EINVAL', 'K3.args'));
bind('an iommufd that is not open', { iommufd: 987 }, no('EBADF', 'K3.fd'));
bind('a closed iommufd', { iommufd: 'x' }, no('EBADF', 'K3.fd'));
bind('/dev/null as iommufd', { iommufd: 'n' }, no('EBADFD', 'K3.not-iommufd'));
bind('the cdev itself as iommufd', { iommufd: 'u' }, no('EBADFD', 'K3.not-iommufd'));
bind('a container as iommufd', { iommufd: 'c' }, no('EBADFD', 'K3.not-iommufd'), ['cdev', 'container']);
bind('already bound', {}, no('EINVAL', 'K3.bound'), ['bound']);
bind('the group file is open', {}, no('EBUSY', 'K3.group-open'), ['cdev', 'group']);
const cdevOf = (e: CaseEnv, bdf: string) =>
  e.k.sys.open(`/dev/vfio/devices/vfio${e.k.vfioState().devices.find((d) => d.bdf === bdf)!.index}`);
const bindTo = (cdev: string, ctx: string) => (e: CaseEnv) =>
  e.k.sys.ioctl(
    e.fd(cdev),
    VFIO.DEVICE_BIND_IOMMUFD,
    encodeBindIommufd({ argsz: 16, flags: 0, iommufd: e.fd(ctx), outDevid: 0 }),
  );
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: 'a second cdev fd of a bound device',
  eras: CDEV,
  topo: 'rp',
  setup: ['bound'],
  prepare: (e) => e.keep('u2', cdevOf(e, '0000:01:00.0')),
  call: bindTo('u2', 'i'),
  ...no('EINVAL', 'K3.opened'),
});
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: '8-byte buffer',
  eras: CDEV,
  topo: 'rp',
  setup: ['cdev'],
  call: (e) => e.k.sys.ioctl(e.fd('u'), VFIO.DEVICE_BIND_IOMMUFD, header(8, 16)),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: 'NULL pointer',
  eras: CDEV,
  topo: 'rp',
  setup: ['cdev'],
  step: { ioctl: { fd: 'u', request: 'VFIO_DEVICE_BIND_IOMMUFD', arg: 0 } },
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: 'the other function of the group to another ctx (PPB)',
  eras: CDEV,
  topo: 'ppb',
  setup: ['bound'],
  prepare: (e) => {
    e.keep('u2', cdevOf(e, '0000:02:01.1'));
    e.keep('i2', e.k.sys.open('/dev/iommu'));
  },
  call: bindTo('u2', 'i2'),
  ...no('EPERM', 'K4'),
});
add({
  ioctl: 'VFIO_DEVICE_BIND_IOMMUFD',
  input: 'the other function of the group to the same ctx (PPB)',
  eras: CDEV,
  topo: 'ppb',
  setup: ['bound'],
  prepare: (e) => e.keep('u2', cdevOf(e, '0000:02:01.1')),
  call: bindTo('u2', 'i'),
  ...ok(0),
  changes: true,
});

for (const [name, bytes, out] of [
  ['argsz 0', header(12, 0), no('EINVAL', 'K5.args')],
  ['argsz 11 (minsz 12)', header(12, 11), no('EINVAL', 'K5.args')],
  ['flags 2', header(12, 12, 2), no('EINVAL', 'K5.args')],
  ['8-byte buffer', header(8, 12), no('EFAULT', 'copy_from_user')],
] as const) {
  add({
    ioctl: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
    input: name,
    eras: CDEV,
    topo: 'rp',
    setup: ['ioas'],
    call: (e) => e.k.sys.ioctl(e.fd('u'), VFIO.DEVICE_ATTACH_IOMMUFD_PT, bytes.slice()),
    ...out,
  });
}
add({
  ioctl: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
  input: 'pt_id 0',
  eras: CDEV,
  topo: 'rp',
  setup: ['ioas'],
  step: { 'attach-pt': { device: 'u', pt: 0 } },
  ...no('ENOENT', 'K5.no-pt'),
});
add({
  ioctl: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
  input: 'pt_id 999 (no such object)',
  eras: CDEV,
  topo: 'rp',
  setup: ['ioas'],
  step: { 'attach-pt': { device: 'u', pt: 999 } },
  ...no('ENOENT', 'K5.no-pt'),
});
add({
  ioctl: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
  input: 'pt_id of the device object itself',
  eras: CDEV,
  topo: 'rp',
  setup: ['ioas'],
  step: { 'attach-pt': { device: 'u', pt: 1 } },
  ...no('EINVAL', 'K5.not-pt'),
});
add({
  ioctl: 'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
  input: 'an IOAS',
  eras: CDEV,
  topo: 'rp',
  setup: ['ioas'],
  step: { 'attach-pt': { device: 'u', pt: 'a' } },
  ...ok(3),
  changes: true,
});
for (const [name, bytes, out] of [
  ['argsz 0', header(8, 0), no('EINVAL', 'K5.args')],
  ['argsz 7 (minsz 8)', header(8, 7), no('EINVAL', 'K5.args')],
  ['flags 1', header(8, 8, 1), no('EINVAL', 'K5.args')],
  ['4-byte buffer', header(4, 8), no('EFAULT', 'copy_from_user')],
  ['not attached (nothing to do)', header(8, 8), ok(0)],
] as const) {
  add({
    ioctl: 'VFIO_DEVICE_DETACH_IOMMUFD_PT',
    input: name,
    eras: CDEV,
    topo: 'rp',
    setup: ['bound'],
    call: (e) => e.k.sys.ioctl(e.fd('u'), VFIO.DEVICE_DETACH_IOMMUFD_PT, bytes.slice()),
    ...out,
  });
}
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'count 1 from a cdev-opened device',
  eras: CDEV,
  topo: 'ppb',
  setup: ['bound', 'null'],
  step: { 'hot-reset': { device: 'u', fds: ['n'] } },
  ...no('EINVAL', 'H20'),
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'count 0 from a cdev-opened device that owns the scope',
  eras: CDEV,
  topo: 'ppb',
  setup: ['bound'],
  step: { 'hot-reset': { device: 'u' } },
  ...ok(0),
  changes: true,
});
add({
  ioctl: 'VFIO_DEVICE_PCI_HOT_RESET',
  input: 'count 0, the other group not bound to the ctx (M-2G)',
  eras: CDEV,
  topo: 'm2g',
  setup: ['bound'],
  step: { 'hot-reset': { device: 'u' } },
  ...no('EINVAL', 'H22'),
});

// ---- iommufd: /dev/iommu [6.6+] ------------------------------------------------------------------

for (const [name, bytes, out] of [
  ['size 0', header(12, 0), no('EINVAL', 'iommufd.size')],
  ['size 11 (min 12)', header(12, 11), no('EINVAL', 'iommufd.size')],
  ['flags 1', header(12, 12, 1), no('EOPNOTSUPP', 'IOAS_ALLOC.flags')],
  ['size 16, zero tail', header(16, 16), ok(0)],
  [
    'size 16, non-zero tail',
    (() => {
      const b = header(16, 16);
      b[15] = 1;
      return b;
    })(),
    no('E2BIG', 'iommufd.E2BIG'),
  ],
  ['size 4096 in a 12-byte buffer', header(12, 4096), no('EFAULT', 'copy_from_user')],
  ['2-byte buffer', new Uint8Array(2), no('EFAULT', 'copy_from_user')],
] as const) {
  add({
    ioctl: 'IOMMU_IOAS_ALLOC',
    input: name,
    eras: CDEV,
    topo: 'rp',
    setup: ['iommufd'],
    call: (e) => e.k.sys.ioctl(e.fd('i'), IOMMUFD.IOAS_ALLOC, bytes.slice()),
    ...out,
  });
}
add({
  ioctl: 'IOMMU_IOAS_ALLOC',
  input: 'NULL pointer',
  eras: CDEV,
  topo: 'rp',
  setup: ['iommufd'],
  call: (e) => e.k.sys.ioctl(e.fd('i'), IOMMUFD.IOAS_ALLOC, 0),
  ...no('EFAULT', 'copy_from_user'),
});
add({
  ioctl: 'IOMMU_IOAS_ALLOC',
  input: 'the right number but another size field',
  eras: CDEV,
  topo: 'rp',
  setup: ['iommufd'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('i'),
      _IOW(VFIO_TYPE, 0x81, 12),
      encodeIoasAlloc({ size: 12, flags: 0, outIoasId: 0 }),
    ),
  ...no('ENOTTY', 'iommufd.ENOTTY'),
});
for (const [name, id, setup, out] of [
  ['id 0', 0, ['iommufd'], no('ENOENT', 'DESTROY.ENOENT')],
  ['id 999', 999, ['iommufd'], no('ENOENT', 'DESTROY.ENOENT')],
  ['a bound device', 1, ['bound'], no('EBUSY', 'DESTROY.EBUSY')],
  ['an IOAS', 2, ['ioas'], ok(0)],
] as const) {
  add({
    ioctl: 'IOMMU_DESTROY',
    input: name,
    eras: CDEV,
    topo: 'rp',
    setup: [...setup],
    call: (e) => e.k.sys.ioctl(e.fd('i'), IOMMUFD.DESTROY, encodeIommuDestroy({ size: 8, id })),
    ...out,
  });
}
for (const [name, bytes, out] of [
  ['size 0', header(8, 0), no('EINVAL', 'iommufd.size')],
  ['size 7 (min 8)', header(8, 7), no('EINVAL', 'iommufd.size')],
  ['2-byte buffer', new Uint8Array(2), no('EFAULT', 'copy_from_user')],
] as const) {
  add({
    ioctl: 'IOMMU_DESTROY',
    input: name,
    eras: CDEV,
    topo: 'rp',
    setup: ['iommufd'],
    call: (e) => e.k.sys.ioctl(e.fd('i'), IOMMUFD.DESTROY, bytes.slice()),
    ...out,
  });
}

// ---- KVM: /dev/kvm, a VM fd, the KVM-VFIO device (E1–E4) ------------------------------------------

const KVM_GET_API_VERSION = _IO(KVMIO, 0x00);
add({
  ioctl: 'KVM_GET_API_VERSION',
  input: 'no argument',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kv'), KVM_GET_API_VERSION),
  ...ok(12),
});
add({
  ioctl: 'KVM_GET_API_VERSION',
  input: 'a non-zero argument',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kv'), KVM_GET_API_VERSION, 1),
  ...no('EINVAL', 'kvm.api-arg'),
});
add({
  ioctl: 'KVM_CREATE_VM',
  input: 'machine type 1 on x86',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kv'), KVM.CREATE_VM, 1),
  ...no('EINVAL', 'kvm.vm-type'),
});
add({
  ioctl: 'KVM_CREATE_VM',
  input: 'machine type 0xffffffff',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kv'), KVM.CREATE_VM, 0xffffffff),
  ...no('EINVAL', 'kvm.vm-type'),
});
add({
  ioctl: '_IO(KVMIO, 0xff)',
  input: 'unknown ioctl on /dev/kvm',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kv'), _IO(KVMIO, 0xff)),
  ...no('EINVAL', 'kvm.EINVAL'),
});
add({
  ioctl: '_IO(KVMIO, 0xff)',
  input: 'unknown ioctl on a VM fd',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('vm'), _IO(KVMIO, 0xff)),
  ...no('ENOTTY', 'kvm.ENOTTY'),
});
for (const [name, type, flags, setup, out] of [
  ['type 0', 0, 0, ['kvm'], no('ENODEV', 'kvm.no-type')],
  ['type 999', 999, 0, ['kvm'], no('ENODEV', 'kvm.no-type')],
  ['a second KVM-VFIO device', 4, 0, ['kvm'], no('EBUSY', 'kvm.vfio-exists')],
  ['KVM_CREATE_DEVICE_TEST of the VFIO type', 4, 1, ['kvm'], ok(0)],
  ['KVM_CREATE_DEVICE_TEST of type 999', 999, 1, ['kvm'], no('ENODEV', 'kvm.no-type')],
] as const) {
  add({
    ioctl: 'KVM_CREATE_DEVICE',
    input: name,
    eras: ALL,
    topo: 'rp',
    setup: [...setup],
    call: (e) => e.k.sys.ioctl(e.fd('vm'), KVM.CREATE_DEVICE, encodeKvmCreateDevice({ type, fd: 0, flags })),
    ...out,
  });
}
add({
  ioctl: 'KVM_CREATE_DEVICE',
  input: '8-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('vm'), KVM.CREATE_DEVICE, new Uint8Array(8)),
  ...no('EFAULT', 'copy_from_user'),
});
const kvmFile = (
  input: string,
  attr: { group?: number; attr?: number; file: (e: CaseEnv) => number },
  setup: SetupToken[],
  out: Outcome,
  byEra: MatrixCase['byEra'] = {},
) =>
  add({
    ioctl: 'KVM_SET_DEVICE_ATTR',
    input,
    eras: ALL,
    topo: 'rp',
    setup: ['kvm', ...setup],
    call: (e) =>
      e.k.sys.ioctl(
        e.fd('kd'),
        KVM.SET_DEVICE_ATTR,
        encodeKvmDeviceAttr({
          flags: 0,
          group: attr.group ?? KVM.DEV_VFIO_FILE,
          attr: attr.attr ?? KVM.DEV_VFIO_FILE_ADD,
          addr: attr.file(e),
        }),
      ),
    ...out,
    byEra,
  });
kvmFile('attribute group 2', { group: 2, file: (e) => e.fd('g') }, ['iommu'], no('ENXIO', 'E3.attr'));
kvmFile(
  'attribute 3 (SET_SPAPR_TCE, ppc64 only)',
  { attr: 3, file: (e) => e.fd('g') },
  ['iommu'],
  no('ENXIO', 'E3.attr'),
);
kvmFile('attribute 99', { attr: 99, file: (e) => e.fd('g') }, ['iommu'], no('ENXIO', 'E3.attr'));
kvmFile('FILE_ADD of an fd that is not open', { file: () => 987 }, [], no('EBADF', 'E3.fd'));
kvmFile('FILE_ADD of fd -1', { file: () => -1 }, [], no('EBADF', 'E3.fd'));
kvmFile('FILE_ADD of a closed fd', { file: (e) => e.fd('x') }, ['closed'], no('EBADF', 'E3.fd'));
kvmFile('FILE_ADD of a container', { file: (e) => e.fd('c') }, ['container'], no('EINVAL', 'E4.invalid'), {
  '2013': no('EINVAL', 'E1.not-group'),
});
kvmFile('FILE_ADD of /dev/null', { file: (e) => e.fd('n') }, ['null'], no('EINVAL', 'E4.invalid'), {
  '2013': no('EINVAL', 'E1.not-group'),
});
kvmFile('FILE_ADD of the KVM device itself', { file: (e) => e.fd('kd') }, [], no('EINVAL', 'E4.invalid'), {
  '2013': no('EINVAL', 'E1.not-group'),
});
kvmFile('FILE_ADD of a group without container', { file: (e) => e.fd('g') }, ['group'], ok(0), {
  '2013': no('EINVAL', 'E1.no-container'),
});
kvmFile(
  'FILE_ADD of a group whose container has no IOMMU driver',
  { file: (e) => e.fd('g') },
  ['attached'],
  ok(0),
  { '2013': no('EINVAL', 'E1.no-iommu') },
);
kvmFile('FILE_ADD of a group fd', { file: (e) => e.fd('g') }, ['iommu'], ok(0));
kvmFile(
  'FILE_ADD of a group-obtained device fd',
  { file: (e) => e.fd('d') },
  ['device'],
  no('EINVAL', 'E4.invalid'),
  { '2013': no('EINVAL', 'E1.not-group'), '6.6+': ok(0) },
);
kvmFile(
  'FILE_DEL of a group never added',
  { attr: 2, file: (e) => e.fd('g') },
  ['iommu'],
  no('ENOENT', 'E3.not-added'),
);
kvmFile('FILE_DEL of an fd that is not open', { attr: 2, file: () => 987 }, [], no('EBADF', 'E3.fd'));
const addGroup = (e: CaseEnv) =>
  e.k.sys.ioctl(
    e.fd('kd'),
    KVM.SET_DEVICE_ATTR,
    encodeKvmDeviceAttr({ flags: 0, group: KVM.DEV_VFIO_FILE, attr: KVM.DEV_VFIO_FILE_ADD, addr: e.fd('g') }),
  );
add({
  ioctl: 'KVM_SET_DEVICE_ATTR',
  input: 'FILE_ADD of the same group twice',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm', 'iommu'],
  prepare: (e) => void addGroup(e),
  call: addGroup,
  ...no('EEXIST', 'E4.exists'),
  byEra: { '2013': no('EEXIST', 'E3.exists') },
});
add({
  ioctl: 'KVM_SET_DEVICE_ATTR',
  input: '16-byte buffer',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kd'), KVM.SET_DEVICE_ATTR, new Uint8Array(16)),
  ...no('EFAULT', 'copy_from_user'),
});
const KVM_GET_DEVICE_ATTR = _IOW(KVMIO, 0xe2, 24);
const KVM_HAS_DEVICE_ATTR = _IOW(KVMIO, 0xe3, 24);
add({
  ioctl: 'KVM_GET_DEVICE_ATTR',
  input: 'the KVM-VFIO device has no get_attr',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('kd'),
      KVM_GET_DEVICE_ATTR,
      encodeKvmDeviceAttr({ flags: 0, group: 1, attr: 1, addr: 0 }),
    ),
  ...no('EPERM', 'kvm.no-get-attr'),
});
add({
  ioctl: 'KVM_HAS_DEVICE_ATTR',
  input: 'FILE_ADD',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('kd'),
      KVM_HAS_DEVICE_ATTR,
      encodeKvmDeviceAttr({ flags: 0, group: 1, attr: 1, addr: 0 }),
    ),
  ...ok(0),
});
add({
  ioctl: 'KVM_HAS_DEVICE_ATTR',
  input: 'attribute group 2',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) =>
    e.k.sys.ioctl(
      e.fd('kd'),
      KVM_HAS_DEVICE_ATTR,
      encodeKvmDeviceAttr({ flags: 0, group: 2, attr: 1, addr: 0 }),
    ),
  ...no('ENXIO', 'E3.attr'),
});
add({
  ioctl: '_IO(KVMIO, 0xff)',
  input: 'unknown ioctl on the KVM-VFIO device',
  eras: ALL,
  topo: 'rp',
  setup: ['kvm'],
  call: (e) => e.k.sys.ioctl(e.fd('kd'), _IO(KVMIO, 0xff)),
  ...no('ENOTTY', 'kvm.ENOTTY'),
});

// ---- any fd: /dev/null, closed and negative fds, close ---------------------------------------------

const VFIO_REQUESTS = [
  'GET_API_VERSION',
  'CHECK_EXTENSION',
  'SET_IOMMU',
  'GROUP_GET_STATUS',
  'GROUP_SET_CONTAINER',
  'GROUP_UNSET_CONTAINER',
  'GROUP_GET_DEVICE_FD',
  'DEVICE_GET_INFO',
  'DEVICE_RESET',
  'DEVICE_GET_PCI_HOT_RESET_INFO',
  'DEVICE_PCI_HOT_RESET',
  'DEVICE_BIND_IOMMUFD',
  'DEVICE_ATTACH_IOMMUFD_PT',
  'DEVICE_DETACH_IOMMUFD_PT',
  'DEVICE_GET_REGION_INFO',
  'DEVICE_GET_IRQ_INFO',
  'DEVICE_SET_IRQS',
  'IOMMU_MAP_DMA',
  'IOMMU_UNMAP_DMA',
] as const;
for (const name of VFIO_REQUESTS) {
  const request = `VFIO_${name}`;
  add({
    ioctl: request,
    input: 'on a closed fd',
    eras: ALL,
    topo: 'rp',
    setup: ['closed'],
    step: { ioctl: { fd: 'x', request } },
    ...no('EBADF', 'fd'),
    rig: true,
  });
  add({
    ioctl: request,
    input: 'on fd -1',
    eras: ALL,
    topo: 'rp',
    setup: [],
    step: { ioctl: { fd: -1, request } },
    ...no('EBADF', 'fd'),
    rig: true,
  });
  add({
    ioctl: request,
    input: 'on /dev/null',
    eras: ALL,
    topo: 'rp',
    setup: ['null'],
    step: { ioctl: { fd: 'n', request } },
    ...no('ENOTTY', 'null.ENOTTY'),
    rig: true,
  });
}
for (const [name, request] of [
  ['IOMMU_DESTROY', IOMMUFD.DESTROY],
  ['IOMMU_IOAS_ALLOC', IOMMUFD.IOAS_ALLOC],
  ['KVM_CREATE_VM', KVM.CREATE_VM],
  ['KVM_CREATE_DEVICE', KVM.CREATE_DEVICE],
  ['KVM_SET_DEVICE_ATTR', KVM.SET_DEVICE_ATTR],
] as const) {
  add({
    ioctl: name,
    input: 'on a closed fd',
    eras: ALL,
    topo: 'rp',
    setup: ['closed'],
    call: (e) => e.k.sys.ioctl(e.fd('x'), request, new Uint8Array(24)),
    ...no('EBADF', 'fd'),
  });
}
add({
  ioctl: 'close',
  input: 'a closed fd',
  eras: ALL,
  topo: 'rp',
  setup: ['closed'],
  step: { close: 'x' },
  ...no('EBADF', 'fd'),
  rig: true,
});
add({
  ioctl: 'close',
  input: 'fd -1',
  eras: ALL,
  topo: 'rp',
  setup: [],
  step: { close: -1 },
  ...no('EBADF', 'fd'),
  rig: true,
});
add({
  ioctl: 'close',
  input: 'an fd that was never open',
  eras: ALL,
  topo: 'rp',
  setup: [],
  step: { close: 987 },
  ...no('EBADF', 'fd'),
  rig: true,
});

export const CASES: readonly MatrixCase[] = cases;

/** `ioctl input`: how a case is named in reports and scenario labels. */
export function caseId(c: MatrixCase): string {
  return `${c.ioctl}: ${c.input}`;
}

/** The outcome a case expects in an era. */
export function outcomeIn(c: MatrixCase, era: Era): Outcome {
  return c.byEra?.[era] ?? { expect: c.expect, rule: c.rule };
}
