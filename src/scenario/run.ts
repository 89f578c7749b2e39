/**
 * Runs a scenario's steps against a kernel — the simulator or a real one — through the same
 * `Syscalls` and `SysfsReader` the VFIO client uses, and records each step's outcome: its value
 * or errno (with the rule that produced it, when the simulator names it), its duration, and
 * whether it met the step's expectation. A step without `expect` is expected to succeed.
 * @module
 */

import { KernelError, type KernelHost } from '../kernel/syscalls.ts';
import { SysfsError } from '../kernel/sysfs.ts';
import { formatBdf, fromDevfn, parseBdf } from '../pci/bdf.ts';
import { SimBlockedError } from '../sim/vfio/request.ts';
import { isErrnoName } from '../uapi/errno.ts';
import { IOMMUFD, KVM, VFIO } from '../uapi/ioctl.ts';
import {
  decodeIrqInfo,
  decodeRegionInfo,
  encodeIrqInfo,
  encodeIrqSet,
  encodeRegionInfo,
  IRQ_INFO_SIZE,
  IRQ_SET_HEADER_SIZE,
  irqSetDataSize,
  REGION_INFO_SIZE,
  VFIO_IRQ_SET,
} from '../uapi/vfio-irqs.ts';
import {
  DEVICE_INFO_SIZE,
  decodeAttachPt,
  decodeBindIommufd,
  decodeDeviceInfo,
  decodeGroupStatus,
  decodeHotResetInfo,
  decodeIoasAlloc,
  decodeKvmCreateDevice,
  encodeAttachPt,
  encodeBindIommufd,
  encodeCString,
  encodeDetachPt,
  encodeDeviceInfo,
  encodeGroupStatus,
  encodeHotReset,
  encodeHotResetInfo,
  encodeIoasAlloc,
  encodeKvmCreateDevice,
  encodeKvmDeviceAttr,
  GROUP_STATUS_SIZE,
  HOT_RESET_HEADER_SIZE,
} from '../uapi/vfio-structs.ts';
import * as io from '../vfio/ioctls.ts';
import { driverOf, iommuGroupOf } from '../vfio/locate.ts';
import type { Expectation, Scenario, Step } from './schema.ts';
import { stepVerb } from './schema.ts';

export interface ScenarioTarget {
  readonly kind: 'sim' | 'linux';
  readonly host: KernelHost;
  /** Milliseconds: virtual time on the simulator, monotonic wall time on a real kernel. */
  now(): number;
  /** Simulator only: fault injection. */
  inject?(fault: Record<string, unknown>): void;
}

export interface StepResult {
  index: number;
  verb: string;
  label: string | null;
  /** The step as written, in one line. */
  text: string;
  errno: string | null;
  rule: string | null;
  value: unknown;
  durationMs: number;
  /** true / false when checked; null when the step was skipped (a fault on a real kernel). */
  met: boolean | null;
  /** Why an expectation failed, or why the step was skipped. */
  note: string | null;
}

export interface ScenarioResult {
  name: string;
  target: 'sim' | 'linux';
  steps: StepResult[];
  passed: number;
  failed: number;
  skipped: number;
}

class StepSkipped extends Error {}

/** A step that cannot be made: a handle it names was never defined (the step that defines it failed). */
class StepBroken extends Error {}

export function runScenario(target: ScenarioTarget, scenario: Scenario): ScenarioResult {
  const handles = new Map<string, number>();
  const steps: StepResult[] = [];
  for (const [index, step] of scenario.steps.entries()) {
    const started = target.now();
    let errno: string | null = null;
    let rule: string | null = null;
    let value: unknown = null;
    let skipped: string | null = null;
    let broken: string | null = null;
    try {
      value = perform(target, step, handles, (v) => {
        value = v;
      });
    } catch (e) {
      if (e instanceof StepSkipped) skipped = e.message;
      else if (e instanceof StepBroken) broken = e.message;
      // A sysfs write Linux would leave blocked (an unbind while the device is open) outside
      // `unbind-while-open`: on a real kernel the run would hang here; the step fails and says why.
      else if (e instanceof SimBlockedError) broken = e.message;
      else if (e instanceof KernelError) {
        errno = e.errno;
        rule = e.rule;
      } else throw e;
    }
    const durationMs = target.now() - started;
    const verdict =
      broken !== null
        ? { met: false, note: broken }
        : skipped === null
          ? check(step, errno, value, durationMs)
          : { met: null, note: skipped };
    steps.push({
      index,
      verb: stepVerb(step),
      label: step.label ?? null,
      text: stepText(step),
      errno,
      rule,
      value,
      durationMs,
      met: verdict.met,
      note: verdict.note,
    });
  }
  return {
    name: scenario.name,
    target: target.kind,
    steps,
    passed: steps.filter((s) => s.met === true).length,
    failed: steps.filter((s) => s.met === false).length,
    skipped: steps.filter((s) => s.met === null).length,
  };
}

function perform(
  target: ScenarioTarget,
  step: Step,
  handles: Map<string, number>,
  partial: (v: unknown) => void,
): unknown {
  const { sys, sysfs } = target.host;
  const fd = (r: string | number): number => {
    if (typeof r === 'number') return r;
    const v = handles.get(r);
    // The loader checked that an earlier step defines it; that step failed, so it holds nothing.
    if (v === undefined)
      throw new StepBroken(`handle '${r}' holds nothing: the step that defines it with as: failed`);
    return v;
  };
  const keep = (as: string | undefined, v: number) => {
    if (as) handles.set(as, v);
    return v;
  };

  if ('open' in step) return keep(step.as, sys.open(step.open));
  if ('open-group' in step) {
    const bdf = formatBdf(parseBdf(step['open-group']));
    const g = iommuGroupOf(sysfs, bdf);
    if (g === null) throw new KernelError('ENOENT', `open group of ${bdf}`, 'no iommu_group link in sysfs');
    return keep(step.as, sys.open(`/dev/vfio/${g}`));
  }
  if ('close' in step) {
    sys.close(fd(step.close));
    return null;
  }
  if ('api-version' in step) return io.apiVersion(sys, fd(step['api-version']));
  if ('check-extension' in step)
    return sys.ioctl(
      fd(step['check-extension'].container),
      VFIO.CHECK_EXTENSION,
      step['check-extension'].ext,
    );
  if ('set-iommu' in step)
    return sys.ioctl(fd(step['set-iommu'].container), VFIO.SET_IOMMU, step['set-iommu'].type);
  if ('group-status' in step) {
    const argsz = step['group-status'].argsz ?? GROUP_STATUS_SIZE;
    const buf = encodeGroupStatus({ argsz, flags: 0 });
    sys.ioctl(fd(step['group-status'].group), VFIO.GROUP_GET_STATUS, buf);
    return { flags: decodeGroupStatus(buf).flags };
  }
  if ('set-container' in step) {
    io.setContainer(sys, fd(step['set-container'].group), fd(step['set-container'].container));
    return null;
  }
  if ('unset-container' in step) return sys.ioctl(fd(step['unset-container']), VFIO.GROUP_UNSET_CONTAINER);
  if ('get-device' in step) {
    const s = step['get-device'];
    return keep(s.as, sys.ioctl(fd(s.group), VFIO.GROUP_GET_DEVICE_FD, encodeCString(s.device)));
  }
  if ('device-info' in step) {
    const argsz = step['device-info'].argsz ?? DEVICE_INFO_SIZE;
    const buf = encodeDeviceInfo(
      { argsz, flags: 0, numRegions: 0, numIrqs: 0, capOffset: 0 },
      Math.max(DEVICE_INFO_SIZE, argsz),
    );
    sys.ioctl(fd(step['device-info'].device), VFIO.DEVICE_GET_INFO, buf);
    const d = decodeDeviceInfo(buf);
    return { flags: d.flags, numRegions: d.numRegions, numIrqs: d.numIrqs };
  }
  if ('reset' in step) return sys.ioctl(fd(step.reset), VFIO.DEVICE_RESET);
  if ('hot-reset-info' in step) {
    const s = step['hot-reset-info'];
    if (s.argsz === undefined) {
      const r = io.hotResetInfo(sys, fd(s.device));
      return { flags: r.flags, count: r.entries.length, devices: r.entries };
    }
    // One raw call with the caller's argsz; the buffer is as large as argsz claims (at least the header).
    const buf = encodeHotResetInfo(
      { argsz: s.argsz, flags: 0, count: 0, devices: [] },
      Math.max(HOT_RESET_HEADER_SIZE, s.argsz),
    );
    const read = () => {
      const h = decodeHotResetInfo(buf);
      const devices = h.devices.map((d) => ({
        bdf: formatBdf(fromDevfn(d.segment, d.bus, d.devfn)),
        id: d.id,
      }));
      return { argsz: h.argsz, flags: h.flags, count: h.count, devices };
    };
    try {
      sys.ioctl(fd(s.device), VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, buf);
    } catch (e) {
      partial(read()); // ENOSPC still writes the header back (I4)
      throw e;
    }
    return read();
  }
  if ('hot-reset' in step) {
    const s = step['hot-reset'];
    const fds = (s.fds ?? []).map(fd);
    const buf = encodeHotReset({
      argsz: s.argsz ?? HOT_RESET_HEADER_SIZE + 4 * fds.length,
      flags: s.flags ?? 0,
      count: s.count ?? fds.length,
      fds,
    });
    return sys.ioctl(fd(s.device), VFIO.DEVICE_PCI_HOT_RESET, buf);
  }
  if ('open-cdev' in step) {
    const bdf = formatBdf(parseBdf(step['open-cdev']));
    const dir = `bus/pci/devices/${bdf}/vfio-dev`;
    const name = sysfs.kind(dir) === null ? undefined : sysfs.list(dir).find((n) => /^vfio\d+$/.test(n));
    if (name === undefined)
      throw new KernelError('ENOENT', `open cdev of ${bdf}`, 'no vfio-dev entry in sysfs');
    return keep(step.as, sys.open(`/dev/vfio/devices/${name}`));
  }
  if ('bind-iommufd' in step) {
    const s = step['bind-iommufd'];
    const buf = encodeBindIommufd({
      argsz: s.argsz ?? 16,
      flags: s.flags ?? 0,
      iommufd: fd(s.iommufd),
      outDevid: 0,
    });
    sys.ioctl(fd(s.device), VFIO.DEVICE_BIND_IOMMUFD, buf);
    return decodeBindIommufd(buf).outDevid;
  }
  if ('ioas-alloc' in step) {
    const s = step['ioas-alloc'];
    const buf = encodeIoasAlloc({ size: 12, flags: 0, outIoasId: 0 });
    sys.ioctl(fd(s.iommufd), IOMMUFD.IOAS_ALLOC, buf);
    return keep(s.as, decodeIoasAlloc(buf).outIoasId);
  }
  if ('attach-pt' in step) {
    const s = step['attach-pt'];
    const buf = encodeAttachPt({ argsz: 12, flags: 0, ptId: fd(s.pt) });
    sys.ioctl(fd(s.device), VFIO.DEVICE_ATTACH_IOMMUFD_PT, buf);
    return decodeAttachPt(buf).ptId;
  }
  if ('detach-pt' in step)
    return sys.ioctl(
      fd(step['detach-pt'].device),
      VFIO.DEVICE_DETACH_IOMMUFD_PT,
      encodeDetachPt({ argsz: 8, flags: 0 }),
    );
  if ('kvm-create-vm' in step) return keep(step.as, sys.ioctl(fd(step['kvm-create-vm']), KVM.CREATE_VM, 0));
  if ('kvm-create-device' in step) {
    const s = step['kvm-create-device'];
    const buf = encodeKvmCreateDevice({ type: s.type ?? KVM.DEV_TYPE_VFIO, fd: 0, flags: 0 });
    sys.ioctl(fd(s.vm), KVM.CREATE_DEVICE, buf);
    return keep(s.as, decodeKvmCreateDevice(buf).fd);
  }
  if ('kvm-file' in step) {
    const s = step['kvm-file'];
    const attr = s.attr ?? KVM_FILE_OPS[s.op];
    // `addr` carries the fd itself (see KvmDeviceAttr): the kernel reads an int32 there.
    const buf = encodeKvmDeviceAttr({ flags: 0, group: KVM.DEV_VFIO_FILE, attr, addr: fd(s.file) });
    return sys.ioctl(fd(s.device), KVM.SET_DEVICE_ATTR, buf);
  }
  if ('ioctl' in step) {
    const s = step.ioctl;
    const request = typeof s.request === 'number' ? s.request : requestByName(s.request);
    return s.arg === undefined ? sys.ioctl(fd(s.fd), request) : sys.ioctl(fd(s.fd), request, s.arg);
  }
  // The value is `{ text }` so an expectation can state the exact text (`expect: { text: "bus\n" }`).
  if ('sysfs-read' in step)
    return { text: sysfsCall(step['sysfs-read'], () => sysfs.readText(step['sysfs-read'])) };
  if ('sysfs-write' in step) {
    sys.writeSysfs(step['sysfs-write'].path, step['sysfs-write'].value);
    return null;
  }
  if ('bind' in step) {
    const bdf = formatBdf(parseBdf(step.bind.device));
    sys.writeSysfs(`bus/pci/devices/${bdf}/driver_override`, step.bind.driver);
    const current = driverOf(sysfs, bdf);
    if (current) sys.writeSysfs(`bus/pci/drivers/${current}/unbind`, bdf);
    sys.writeSysfs('bus/pci/drivers_probe', bdf);
    return driverOf(sysfs, bdf);
  }
  if ('unbind' in step) {
    const bdf = formatBdf(parseBdf(step.unbind));
    const current = driverOf(sysfs, bdf);
    if (current) sys.writeSysfs(`bus/pci/drivers/${current}/unbind`, bdf);
    return null;
  }
  if ('fault' in step) {
    if (!target.inject) throw new StepSkipped('fault injection exists only on the simulator');
    target.inject(step.fault);
    return null;
  }
  const irqs = performIrqStep(target, step, fd, keep);
  if (irqs !== NOT_IRQ_STEP) return irqs;
  throw new Error(`unknown step ${stepVerb(step)}`);
}

const NOT_IRQ_STEP = Symbol('not an irq step');

const IRQ_INDEX = { intx: 0, msi: 1, msix: 2, err: 3, req: 4 } as const;
const REGION_INDEX = {
  bar0: 0,
  bar1: 1,
  bar2: 2,
  bar3: 3,
  bar4: 4,
  bar5: 5,
  rom: 6,
  config: 7,
  vga: 8,
} as const;
const SET_IRQ_DATA = {
  none: VFIO_IRQ_SET.DATA_NONE,
  bool: VFIO_IRQ_SET.DATA_BOOL,
  eventfd: VFIO_IRQ_SET.DATA_EVENTFD,
};
const SET_IRQ_ACTION = {
  trigger: VFIO_IRQ_SET.ACTION_TRIGGER,
  mask: VFIO_IRQ_SET.ACTION_MASK,
  unmask: VFIO_IRQ_SET.ACTION_UNMASK,
};

/** The error-notification and release-request steps (eventfd, irq-info, set-irq, region-info, wait-event, inject-error, unbind-while-open). */
function performIrqStep(
  target: ScenarioTarget,
  step: Step,
  fd: (r: string | number) => number,
  keep: (as: string | undefined, v: number) => number,
): unknown {
  const { sys, sysfs } = target.host;
  const eventfds = () => {
    if (!sys.eventfd || !sys.readEventfd || !sys.poll)
      throw new StepSkipped('this kernel interface has no eventfd/poll');
    return { eventfd: sys.eventfd.bind(sys), read: sys.readEventfd.bind(sys), poll: sys.poll.bind(sys) };
  };
  if ('eventfd' in step) return keep(step.eventfd, eventfds().eventfd());
  if ('irq-info' in step) {
    const s = step['irq-info'];
    const index = typeof s.index === 'number' ? s.index : IRQ_INDEX[s.index];
    const buf = encodeIrqInfo({ argsz: s.argsz ?? IRQ_INFO_SIZE, flags: 0, index, count: 0 });
    sys.ioctl(fd(s.device), VFIO.DEVICE_GET_IRQ_INFO, buf);
    const r = decodeIrqInfo(buf);
    return { flags: r.flags, count: r.count };
  }
  if ('set-irq' in step) {
    const s = step['set-irq'];
    const index = typeof s.index === 'number' ? s.index : IRQ_INDEX[s.index];
    const data = s.data ?? 'eventfd';
    const elements =
      data === 'eventfd' ? [s.fd === undefined ? -1 : fd(s.fd)] : data === 'bool' ? [s.value ?? 1] : [];
    const count = s.count ?? (data === 'none' ? 1 : elements.length);
    const flags = SET_IRQ_DATA[data] | SET_IRQ_ACTION[s.action ?? 'trigger'];
    const buf = encodeIrqSet({
      argsz: s.argsz ?? IRQ_SET_HEADER_SIZE + irqSetDataSize(flags) * elements.length,
      flags,
      index,
      start: s.start ?? 0,
      count,
      data: elements,
    });
    return sys.ioctl(fd(s.device), VFIO.DEVICE_SET_IRQS, buf);
  }
  if ('region-info' in step) {
    const s = step['region-info'];
    const index = typeof s.index === 'number' ? s.index : REGION_INDEX[s.index];
    const buf = encodeRegionInfo({
      argsz: s.argsz ?? REGION_INFO_SIZE,
      flags: 0,
      index,
      capOffset: 0,
      size: 0n,
      offset: 0n,
    });
    sys.ioctl(fd(s.device), VFIO.DEVICE_GET_REGION_INFO, buf);
    const r = decodeRegionInfo(buf);
    return { flags: r.flags, size: Number(r.size) };
  }
  if ('wait-event' in step) {
    const s = step['wait-event'];
    const e = eventfds();
    const efd = fd(s.fd);
    if (e.poll([efd], s.timeout).length === 0)
      throw new KernelError('ETIMEDOUT', 'poll', `no event on fd ${efd} within ${s.timeout} ms`);
    return { count: e.read(efd) };
  }
  if ('inject-error' in step) {
    if (!target.inject) throw new StepSkipped('error injection exists only on the simulator');
    target.inject({ kind: 'aer', device: formatBdf(parseBdf(step['inject-error'])) });
    return null;
  }
  if ('unbind-while-open' in step) {
    // On Linux the write blocks this runner until the device is released: only the simulator,
    // which reports the blocked write, can run the steps that follow it.
    if (target.kind !== 'sim') throw new StepSkipped('a blocking unbind needs the simulator');
    const bdf = formatBdf(parseBdf(step['unbind-while-open']));
    const current = driverOf(sysfs, bdf);
    if (!current) throw new KernelError('ENODEV', `unbind ${bdf}`, 'no driver bound');
    try {
      sys.writeSysfs(`bus/pci/drivers/${current}/unbind`, bdf);
    } catch (e) {
      if (e instanceof SimBlockedError) return { blocked: true };
      throw e;
    }
    return { blocked: false };
  }
  return NOT_IRQ_STEP;
}

/** A failed sysfs read is an outcome like an ioctl's errno (a missing attribute reads as ENOENT). */
function sysfsCall<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SysfsError)
      throw new KernelError(isErrnoName(e.errno) ? e.errno : 'EIO', `read ${path}`);
    throw e;
  }
}

const KVM_FILE_OPS = {
  add: KVM.DEV_VFIO_FILE_ADD,
  del: KVM.DEV_VFIO_FILE_DEL,
  spapr: KVM.DEV_VFIO_GROUP_SET_SPAPR_TCE,
} as const;

function requestByName(name: string): number {
  const short = name.replace(/^VFIO_/, '');
  const v = (VFIO as Record<string, number>)[short];
  if (v === undefined) throw new KernelError('EINVAL', `ioctl ${name}`, 'unknown request name');
  return v;
}

function check(
  step: Step,
  errno: string | null,
  value: unknown,
  durationMs: number,
): { met: boolean; note: string | null } {
  const e: Expectation = step.expect ?? 'ok';
  const got =
    errno ??
    `ok${value !== null && value !== undefined && typeof value !== 'object' ? ` (${String(value)})` : ''}`;
  let met: boolean;
  let want: string;
  if (e === 'ok') {
    met = errno === null;
    want = 'success';
  } else if (typeof e === 'string') {
    met = errno === e;
    want = e;
  } else if (typeof e === 'number') {
    met = errno === null && value === e;
    want = String(e);
  } else {
    const { errno: wantErrno, ...fields } = e as Record<string, unknown>;
    met = (wantErrno === undefined ? errno === null : errno === wantErrno) && contains(value, fields);
    want = JSON.stringify(e);
  }
  const d = step.duration;
  if (
    met &&
    d &&
    ((d.min !== undefined && durationMs < d.min) || (d.max !== undefined && durationMs > d.max))
  ) {
    return {
      met: false,
      note: `took ${durationMs.toFixed(1)} ms, expected ${d.min ?? 0}–${d.max ?? '∞'} ms`,
    };
  }
  return {
    met,
    note: met
      ? null
      : `expected ${want}, got ${got}${typeof value === 'object' && value !== null ? ` ${JSON.stringify(value)}` : ''}`,
  };
}

/** Every field of `want` is present in `got` with an equal value (objects and arrays compared recursively, arrays by position). */
function contains(got: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return Object.is(got, want);
  if (got === null || typeof got !== 'object') return false;
  if (Array.isArray(want))
    return Array.isArray(got) && got.length === want.length && want.every((w, i) => contains(got[i], w));
  return Object.entries(want).every(([k, w]) => contains((got as Record<string, unknown>)[k], w));
}

function stepText(step: Step): string {
  const verb = stepVerb(step);
  const arg = (step as Record<string, unknown>)[verb];
  const as = 'as' in step && step.as ? ` as ${step.as}` : '';
  return `${verb} ${typeof arg === 'object' ? JSON.stringify(arg) : String(arg)}${as}`;
}
