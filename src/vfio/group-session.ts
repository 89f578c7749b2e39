/**
 * Group-mode VFIO session (every era): one container, the groups the caller opened, the device
 * fds it holds — and the group-mode hot-reset routine (kernel-semantics Appendix A): read the
 * INFO list, open every affected group the caller may open, pass one fd per group.
 *
 * Before asking the kernel, the routine checks sysfs for what would make the kernel refuse, so
 * the error names the device in the way (BDF, driver, group) instead of a bare EINVAL.
 * @module
 */

import type { DeviceRef } from '../host/problems.ts';
import { KernelError, type KernelHost } from '../kernel/syscalls.ts';
import { formatBdf, parseBdf } from '../pci/bdf.ts';
import { isVfioDriver } from '../pci/drivers.ts';
import { VFIO_API_VERSION, VFIO_EXTENSION } from '../uapi/ioctl.ts';
import { VFIO_DEVICE_FLAGS, VFIO_GROUP_FLAGS } from '../uapi/vfio-structs.ts';
import { refText, VfioError } from './errors.ts';
import * as io from './ioctls.ts';
import { type CallContext, kernelCall, kernelCallWithRetry, translate } from './kernel-calls.ts';
import { deviceExists, deviceRef, driverOf, groupMembers, iommuGroupOf } from './locate.ts';
import type { VfioSession } from './session.ts';

export interface GroupHandle {
  id: number;
  fd: number;
  /** Attached to this session's container. */
  attached: boolean;
}

export interface DeviceHandle {
  bdf: string;
  fd: number;
  group: number;
  /** VFIO_DEVICE_FLAGS_RESET as reported at open (D2): the kernel's function reset works. */
  resetWorks: boolean;
}

export interface HotResetOutcome {
  /** Affected functions in the kernel's order, with group and driver at the time of the reset. */
  affected: DeviceRef[];
  /** Group ids whose fds were passed. */
  groups: number[];
}

export interface SessionOptions {
  /** How many times to retry EAGAIN / EBUSY (lock contention, D3/H8/H9) before giving up. */
  busyRetries: number;
  /** Check sysfs ownership before calling HOT_RESET, to name the blocking device (default on). */
  precheck: boolean;
}

const DEFAULTS: SessionOptions = { busyRetries: 3, precheck: true };

export class GroupSession implements VfioSession<DeviceHandle> {
  readonly mode = 'group' as const;
  readonly host: KernelHost;
  readonly options: SessionOptions;
  private container: number | null = null;
  private iommuSet = false;
  private readonly groups = new Map<number, GroupHandle>();
  private readonly devices = new Map<string, DeviceHandle>();

  constructor(host: KernelHost, options: Partial<SessionOptions> = {}) {
    this.host = host;
    this.options = { ...DEFAULTS, ...options };
  }

  /** Appendix A step 1: open the container and check the API version and the type1v2 backend. */
  openContainer(): number {
    if (this.container !== null) return this.container;
    const c = this.call('open /dev/vfio/vfio', null, () => this.host.sys.open('/dev/vfio/vfio'));
    const v = this.call('VFIO_GET_API_VERSION', null, () => io.apiVersion(this.host.sys, c));
    if (v !== VFIO_API_VERSION) {
      this.host.sys.close(c);
      throw new VfioError('VFIO_RESET_E_IOCTL', `VFIO API version ${v} is not ${VFIO_API_VERSION}`, {
        step: 'VFIO_GET_API_VERSION',
      });
    }
    if (
      !this.call('VFIO_CHECK_EXTENSION', null, () =>
        io.checkExtension(this.host.sys, c, VFIO_EXTENSION.TYPE1v2_IOMMU),
      )
    ) {
      this.host.sys.close(c);
      throw new VfioError(
        'VFIO_RESET_E_IOCTL',
        'the kernel offers no VFIO type1v2 IOMMU backend (is vfio_iommu_type1 loaded?)',
        { step: 'VFIO_CHECK_EXTENSION' },
      );
    }
    this.container = c;
    return c;
  }

  /**
   * Opens `/dev/vfio/<id>`. With `attach`, requires a viable group and attaches it to the
   * container (setting the IOMMU backend on the first one), as a VMM does for groups it uses.
   */
  openGroup(id: number, attach = true): GroupHandle {
    const have = this.groups.get(id);
    if (have && (have.attached || !attach)) return have;
    const fd = have?.fd ?? this.openGroupNode(id);
    const h: GroupHandle = { id, fd, attached: false };
    this.groups.set(id, h);
    if (!attach) return h;
    const flags = this.call(`VFIO_GROUP_GET_STATUS on group ${id}`, null, () =>
      io.groupStatus(this.host.sys, fd),
    );
    if ((flags & VFIO_GROUP_FLAGS.VIABLE) === 0) {
      const blocker = this.groupBlocker(id);
      throw new VfioError(
        'VFIO_RESET_E_NOT_VIABLE',
        `IOMMU group ${id} is not viable: ${blocker ? `${refText(blocker)} is bound to a host driver that uses DMA; unbind it or bind it to vfio-pci` : 'a member is bound to a host driver'}`,
        { step: 'VFIO_GROUP_GET_STATUS', blocker },
      );
    }
    if ((flags & VFIO_GROUP_FLAGS.CONTAINER_SET) === 0) {
      const c = this.openContainer();
      this.call(`VFIO_GROUP_SET_CONTAINER on group ${id}`, null, () => io.setContainer(this.host.sys, fd, c));
      if (!this.iommuSet) {
        this.call('VFIO_SET_IOMMU', null, () => io.setIommu(this.host.sys, c, VFIO_EXTENSION.TYPE1v2_IOMMU));
        this.iommuSet = true;
      }
    }
    h.attached = true;
    return h;
  }

  /** Appendix A steps 2–4: the device's group, attached, then `VFIO_GROUP_GET_DEVICE_FD`. */
  openDevice(bdfText: string): DeviceHandle {
    const bdf = formatBdf(parseBdf(bdfText));
    const have = this.devices.get(bdf);
    if (have) return have;
    const sys = this.host.sysfs;
    if (!deviceExists(sys, bdf)) {
      throw new VfioError('VFIO_RESET_E_NOT_VFIO', `${bdf} is not on this host (${sys.origin})`, {
        step: 'locate',
        bdf,
      });
    }
    const group = iommuGroupOf(sys, bdf);
    if (group === null) {
      throw new VfioError(
        'VFIO_RESET_E_NOT_VFIO',
        `${bdf} has no IOMMU group: is the IOMMU on (intel_iommu=on / amd_iommu=on)?`,
        { step: 'locate', bdf },
      );
    }
    const driver = driverOf(sys, bdf);
    if (!isVfioDriver(driver)) {
      throw new VfioError(
        'VFIO_RESET_E_NOT_VFIO',
        `${bdf} is bound to ${driver ?? 'no driver'}, not vfio-pci; bind its whole group ${group} to vfio-pci first`,
        {
          step: 'locate',
          bdf,
          blocker: { bdf, driver, group },
        },
      );
    }
    const g = this.openGroup(group);
    // O1: the first open resets the device under a trylock; EAGAIN is contention, retried.
    const fd = this.withRetry(`VFIO_GROUP_GET_DEVICE_FD ${bdf}`, bdf, () =>
      io.getDeviceFd(this.host.sys, g.fd, bdf),
    );
    const info = this.call(`VFIO_DEVICE_GET_INFO ${bdf}`, bdf, () => io.deviceInfo(this.host.sys, fd));
    const h: DeviceHandle = { bdf, fd, group, resetWorks: (info.flags & VFIO_DEVICE_FLAGS.RESET) !== 0 };
    this.devices.set(bdf, h);
    return h;
  }

  hotResetInfo(dev: DeviceHandle): io.HotResetInfoResult {
    return this.call(`VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ${dev.bdf}`, dev.bdf, () =>
      io.hotResetInfo(this.host.sys, dev.fd),
    );
  }

  /** `VFIO_DEVICE_RESET` (D3), retried on lock contention. */
  functionReset(dev: DeviceHandle): void {
    this.withRetry(`VFIO_DEVICE_RESET ${dev.bdf}`, dev.bdf, () => io.deviceReset(this.host.sys, dev.fd));
  }

  /**
   * The group-mode hot reset: INFO, then one fd for each affected group — the groups this
   * session holds, plus any other it can open (not attached: since 5.19 any open group file
   * proves ownership, H13). Groups opened only for the reset are closed again afterwards.
   */
  hotReset(dev: DeviceHandle): HotResetOutcome {
    const info = this.hotResetInfo(dev);
    const sys = this.host.sysfs;
    const affected = info.entries.map((e) => deviceRef(sys, e.bdf));
    if (this.options.precheck) {
      // H6: every function in scope must be a vfio-pci device of the same dev_set.
      const notVfio = affected.find((a) => !isVfioDriver(a.driver));
      if (notVfio) {
        throw new VfioError(
          'VFIO_RESET_E_NOT_OWNED',
          `hot reset of ${dev.bdf} needs ${refText(notVfio)}, which you do not own: bind it to vfio-pci (its whole group) and open its group`,
          { step: 'precheck', bdf: dev.bdf, blocker: notVfio },
        );
      }
    }
    const ids = [...new Set(info.entries.map((e) => e.id))];
    const temporary: GroupHandle[] = [];
    const fds: number[] = [];
    try {
      for (const id of ids) {
        let h = this.groups.get(id);
        if (!h) {
          try {
            h = { id, fd: this.openGroupNode(id), attached: false };
          } catch (e) {
            const member = affected.find((a) => a.group === id) ?? null;
            if (e instanceof VfioError && e.code === 'VFIO_RESET_E_GROUP_BUSY') {
              throw new VfioError(
                'VFIO_RESET_E_NOT_OWNED',
                `hot reset of ${dev.bdf} needs group ${id}${member ? ` (${refText(member)})` : ''}, which another process holds open`,
                { step: `open /dev/vfio/${id}`, errno: 'EBUSY', rule: e.rule, bdf: dev.bdf, blocker: member },
              );
            }
            throw e;
          }
          temporary.push(h);
        }
        fds.push(h.fd);
      }
      this.withRetry(
        `VFIO_DEVICE_PCI_HOT_RESET ${dev.bdf}`,
        dev.bdf,
        () => io.hotReset(this.host.sys, dev.fd, fds),
        affected,
      );
    } finally {
      for (const t of temporary) this.host.sys.close(t.fd);
    }
    return { affected, groups: ids };
  }

  closeDevice(dev: DeviceHandle): void {
    if (this.devices.get(dev.bdf) !== dev) return;
    this.devices.delete(dev.bdf);
    this.host.sys.close(dev.fd);
  }

  /** Closes every device, group and the container (device fds first: they pin their group, G6). */
  close(): void {
    for (const d of [...this.devices.values()]) this.closeDevice(d);
    for (const g of this.groups.values()) this.host.sys.close(g.fd);
    this.groups.clear();
    if (this.container !== null) this.host.sys.close(this.container);
    this.container = null;
    this.iommuSet = false;
  }

  heldDevices(): DeviceHandle[] {
    return [...this.devices.values()];
  }

  private openGroupNode(id: number): number {
    try {
      return this.host.sys.open(`/dev/vfio/${id}`);
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
      const member = groupMembers(this.host.sysfs, id).map((b) => deviceRef(this.host.sysfs, b))[0] ?? null;
      if (e.errno === 'EBUSY') {
        throw new VfioError(
          'VFIO_RESET_E_GROUP_BUSY',
          `IOMMU group ${id} is already open in another process (one opener per group, G2)`,
          {
            step: `open /dev/vfio/${id}`,
            errno: e.errno,
            rule: e.rule,
            blocker: member,
          },
        );
      }
      if (e.errno === 'ENOENT') {
        throw new VfioError(
          'VFIO_RESET_E_NOT_VFIO',
          `/dev/vfio/${id} does not exist: no device of IOMMU group ${id} is bound to vfio-pci`,
          {
            step: `open /dev/vfio/${id}`,
            errno: e.errno,
            rule: e.rule,
            blocker: member,
          },
        );
      }
      throw this.fromKernel(e, `open /dev/vfio/${id}`, null);
    }
  }

  private groupBlocker(id: number): DeviceRef | null {
    const sys = this.host.sysfs;
    return (
      groupMembers(sys, id)
        .map((b) => deviceRef(sys, b))
        .find(
          (r) =>
            r.driver !== null &&
            !isVfioDriver(r.driver) &&
            r.driver !== 'pci-stub' &&
            r.driver !== 'pcieport',
        ) ?? null
    );
  }

  private get calls(): CallContext {
    return { mode: 'group', sysfs: this.host.sysfs, busyRetries: this.options.busyRetries };
  }

  private withRetry<T>(step: string, bdf: string, f: () => T, affected: DeviceRef[] = []): T {
    return kernelCallWithRetry(this.calls, step, bdf, f, affected);
  }

  private call<T>(step: string, bdf: string | null, f: () => T): T {
    return kernelCall(this.calls, step, bdf, f);
  }

  private fromKernel(e: unknown, step: string, bdf: string | null): unknown {
    return translate(this.calls, e, step, bdf);
  }
}
