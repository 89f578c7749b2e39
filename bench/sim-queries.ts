/**
 * The simulated kernel under load: hot-reset INFO through the `Syscalls` boundary (the client's
 * two-call protocol, structs encoded and decoded as bytes) and the pure scope query, at 1,000,
 * 10,000 and 100,000 functions, for a GPU near the start and one near the end of the host —
 * flat means the cost follows the reset bus, not the host. Also ioctls per second.
 * @module
 */

import { hotResetScope } from '../src/pci/reset-scope.ts';
import { SimKernel } from '../src/sim/kernel.ts';
import { VFIO } from '../src/uapi/ioctl.ts';
import { decodeHotResetInfo, encodeHotResetInfo, hotResetInfoSize } from '../src/uapi/vfio-structs.ts';
import { GroupSession } from '../src/vfio/group-session.ts';
import * as io from '../src/vfio/ioctls.ts';
import { largeHost } from './data.ts';
import { measure, type Timing } from './measure.ts';

export const QUERY_SIZES = [1000, 10_000, 100_000] as const;

export interface QueryTimings {
  functions: number;
  /** Building the simulated kernel (topology, groups, methods, sysfs projection), ms. */
  bootMs: number;
  target: string;
  affected: number;
  /** One INFO ioctl with room for every entry: encode, ioctl, decode. */
  info: Timing;
  /** The client's protocol (`vfio/ioctls.ts` hotResetInfo): a count call answered ENOSPC, then the fill. */
  protocol: Timing;
  scope: Timing;
  /** The same two queries for the last GPU of the host. */
  lastTarget: string;
  infoLast: Timing;
  scopeLast: Timing;
}

export interface IoctlRate {
  name: string;
  timing: Timing;
}

/** GPUs bound to vfio-pci (their audio function too, so the group is viable), in host order. */
function vfioGpus(k: SimKernel): string[] {
  return k.host.topology.functions
    .filter((f) => f.desc.classCode === 0x030000 && f.desc.driver === 'vfio-pci')
    .map((f) => f.name);
}

export async function simQueries(n: number): Promise<QueryTimings> {
  const t0 = performance.now();
  const k = new SimKernel(largeHost(n), { era: '6.1' });
  const bootMs = performance.now() - t0;
  const gpus = vfioGpus(k);
  if (gpus.length === 0) throw new Error(`no vfio-pci GPU in the ${n}-function host`);
  const s = new GroupSession(k);
  const one = async (bdf: string) => {
    const dev = s.openDevice(bdf);
    const fn = k.host.topology.get(bdf)!;
    const affected = io.hotResetInfo(k.sys, dev.fd).entries.length;
    const info = await measure(() => infoCall(k, dev.fd, affected), { batch: 50 });
    const protocol = await measure(() => io.hotResetInfo(k.sys, dev.fd), { batch: 50 });
    const scope = await measure(() => hotResetScope(fn, '6.1'), { batch: 200 });
    return { affected, info, protocol, scope };
  };
  const first = await one(gpus[0]!);
  const last = await one(gpus[gpus.length - 1]!);
  return {
    functions: n,
    bootMs,
    target: gpus[0]!,
    affected: first.affected,
    info: first.info,
    protocol: first.protocol,
    scope: first.scope,
    lastTarget: gpus[gpus.length - 1]!,
    infoLast: last.info,
    scopeLast: last.scope,
  };
}

/** ioctls per second through `SimKernel.sys.ioctl`, each with its struct encoded and decoded. */
export async function ioctlRates(): Promise<IoctlRate[]> {
  const k = new SimKernel(largeHost(1000), { era: '6.1' });
  const s = new GroupSession(k);
  const dev = s.openDevice(vfioGpus(k)[0]!);
  const container = s.openContainer();
  const group = s.openGroup(dev.group);
  const rates: [string, () => unknown][] = [
    ['VFIO_GET_API_VERSION', () => io.apiVersion(k.sys, container)],
    ['VFIO_GROUP_GET_STATUS', () => io.groupStatus(k.sys, group.fd)],
    ['VFIO_DEVICE_GET_INFO', () => io.deviceInfo(k.sys, dev.fd)],
    ['VFIO_DEVICE_GET_PCI_HOT_RESET_INFO (count call)', () => countCall(k, dev.fd)],
  ];
  const out: IoctlRate[] = [];
  for (const [name, f] of rates) out.push({ name, timing: await measure(f, { batch: 200 }) });
  return out;
}

/** One hot-reset INFO ioctl sized for `count` entries, its answer decoded. */
function infoCall(k: SimKernel, fd: number, count: number): number {
  const size = hotResetInfoSize(count);
  const buf = encodeHotResetInfo({ argsz: size, flags: 0, count: 0, devices: [] }, size);
  k.sys.ioctl(fd, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, buf);
  return decodeHotResetInfo(buf).devices.length;
}

/** The first INFO call of the protocol: a header-only buffer, answered ENOSPC with the count. */
function countCall(k: SimKernel, fd: number): number {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(0, 12, true);
  try {
    k.sys.ioctl(fd, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, b);
  } catch {
    // ENOSPC is the expected answer; the count is in the buffer
  }
  return new DataView(b.buffer).getUint32(8, true);
}
