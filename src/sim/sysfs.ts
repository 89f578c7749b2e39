/**
 * Projects a simulated host as the files and symlinks Linux shows under /sys, so that the
 * inventory, the dump writer and any user code read it exactly as they read a real host.
 *
 * Layout (as Linux 6.x): device directories nest under `devices/pci<dom>:<bus>/` following the
 * bridges; `bus/pci/devices/<bdf>` links to them; `driver`, `iommu_group` and `physfn` are
 * relative links; `kernel/iommu_groups/<n>/devices/<bdf>` link back; slots live in
 * `bus/pci/slots/<name>/` with `address` and, for hotplug drivers, a `module` link.
 * @module
 */

import { formatBus, hex } from '../pci/bdf.ts';
import { buildConfigSpace } from '../pci/config-space.ts';
import { formatModalias } from '../pci/modalias.ts';
import { linkSpeedText } from '../pci/model.ts';
import { formatResetMethods } from '../pci/reset-methods.ts';
import type { PciFunction } from '../pci/topology.ts';
import type { SimHost } from './host.ts';
import { Vfs } from './vfs.ts';

const devicePaths = new WeakMap<PciFunction, string>();

/** The sysfs path of a function's device directory (worked out once per function: asked at every link). */
export function devicePath(f: PciFunction): string {
  let path = devicePaths.get(f);
  if (path === undefined) {
    const parent = f.bus.self;
    path = parent
      ? `${devicePath(parent)}/${f.name}`
      : `devices/pci${formatBus(f.bus.domain, f.bus.number)}/${f.name}`;
    devicePaths.set(f, path);
  }
  return path;
}

/** Relative link target from the directory holding `from` to `to` (both sysfs-relative). */
export function relativeTarget(from: string, to: string): string {
  const fromDir = from.split('/').slice(0, -1);
  const toParts = to.split('/');
  let common = 0;
  while (common < fromDir.length && common < toParts.length && fromDir[common] === toParts[common]) common++;
  return [...fromDir.slice(common).map(() => '..'), ...toParts.slice(common)].join('/');
}

/** Drivers whose directories always exist on a host with VFIO loaded. */
const STANDARD_DRIVERS = ['pcieport', 'pci-stub', 'vfio-pci'];

/** Linux's text for a link speed attribute, e.g. `16.0 GT/s PCIe`; `Unknown` when it cannot tell. */
function speedAttr(text: string | null): string {
  if (text === null) return 'Unknown\n';
  const gts = text.replace(' GT/s', '');
  const shown = gts.includes('.') ? gts : `${gts}.0`;
  return `${shown} GT/s PCIe\n`;
}

export function projectSysfs(host: SimHost, origin = `sim:${host.name}`): Vfs {
  const v = new Vfs(origin);
  const link = (path: string, to: string) => v.symlink(path, relativeTarget(path, to));

  v.mkdir('bus/pci/devices');
  v.mkdir('bus/pci/slots');
  for (const d of STANDARD_DRIVERS) v.mkdir(`bus/pci/drivers/${d}`);
  for (const bus of host.topology.rootBuses) v.mkdir(`devices/pci${formatBus(bus.domain, bus.number)}`);
  if (host.options.iommu) v.mkdir('kernel/iommu_groups');

  // The PF of a VF: the last function with SR-IOV before it on its bus, in registration order.
  const pfOnBus = new Map<PciFunction['bus'], PciFunction>();
  for (const st of host.allStates()) {
    const f = st.fn;
    const d = f.desc;
    const dir = devicePath(f);
    if (d.sriov) pfOnBus.set(f.bus, f);
    const pf = d.virtfn ? pfOnBus.get(f.bus) : undefined;
    if (pf) link(`${dir}/physfn`, devicePath(pf));
    const hex4 = (n: number) => `0x${hex(n, 4)}\n`;
    v.file(`${dir}/vendor`, hex4(d.vendor));
    v.file(`${dir}/device`, hex4(d.device));
    v.file(`${dir}/subsystem_vendor`, hex4(d.subsystemVendor));
    v.file(`${dir}/subsystem_device`, hex4(d.subsystemDevice));
    v.file(`${dir}/class`, `0x${hex(d.classCode, 6)}\n`);
    v.file(`${dir}/revision`, `0x${hex(d.revision, 2)}\n`);
    v.file(`${dir}/modalias`, formatModalias(d));
    if (d.bars) v.file(`${dir}/resource`, resourceText(d.bars));
    // Built at the first read (a 100,000-function host would hold 400 MB of images otherwise).
    let config: Uint8Array | undefined;
    v.file(`${dir}/config`, () => {
      config ??= d.pcie ? buildConfigSpace(d) : buildConfigSpace(d).slice(0, 256);
      return config;
    });
    v.file(`${dir}/driver_override`, () => `${st.driverOverride ?? '(null)'}\n`);
    // Y1/Y2: the attributes exist iff a method existed at registration; an emptied list reads as nothing.
    if (st.resetMethodAttr) v.file(`${dir}/reset_method`, () => formatResetMethods(st.resetMethods));
    if (st.resetAttr) v.file(`${dir}/reset`, '');
    if (d.pcie) {
      const speed = speedAttr(linkSpeedText(d.pcie));
      v.file(`${dir}/max_link_speed`, speed);
      v.file(`${dir}/current_link_speed`, speed);
      v.file(`${dir}/max_link_width`, `${d.pcie.linkWidth}\n`);
      v.file(`${dir}/current_link_width`, `${d.pcie.linkWidth}\n`);
    }
    if (d.sriov) {
      v.file(`${dir}/sriov_totalvfs`, `${d.sriov.totalVfs}\n`);
      v.file(`${dir}/sriov_numvfs`, `${d.sriov.numVfs}\n`);
    }
    if (f.subordinate) v.mkdir(`${dir}/pci_bus/${formatBus(f.subordinate.domain, f.subordinate.number)}`);
    link(`bus/pci/devices/${f.name}`, dir);
    relinkDriver(v, f, null, st.driver);
    const g = host.groups.groupOf(f);
    if (g !== null) {
      link(`${dir}/iommu_group`, `kernel/iommu_groups/${g}`);
      link(`kernel/iommu_groups/${g}/devices/${f.name}`, dir);
      v.file(`kernel/iommu_groups/${g}/type`, 'DMA\n');
    }
  }

  for (const s of host.topology.slots) {
    const dir = `bus/pci/slots/${s.desc.name}`;
    v.file(`${dir}/address`, `${formatBus(s.desc.domain, s.desc.bus)}:${hex(s.desc.device, 2)}\n`);
    if (s.desc.driver !== 'pci_slot') {
      v.mkdir(`module/${s.desc.driver}`);
      link(`${dir}/module`, `module/${s.desc.driver}`);
    }
  }
  return v;
}

/**
 * Keeps the projection in step with a bind or unbind: moves `<device>/driver` and the driver
 * directory's link back to the device from `from` to `to` (either may be null).
 */
export function relinkDriver(v: Vfs, f: PciFunction, from: string | null, to: string | null): void {
  const dir = devicePath(f);
  const link = (path: string, target: string) => v.symlink(path, relativeTarget(path, target));
  if (from !== null) {
    v.remove(`${dir}/driver`);
    v.remove(`bus/pci/drivers/${from}/${f.name}`);
  }
  if (to !== null) {
    v.mkdir(`bus/pci/drivers/${to}`);
    link(`${dir}/driver`, `bus/pci/drivers/${to}`);
    link(`bus/pci/drivers/${to}/${f.name}`, dir);
  }
}

/** The char-device major this simulator gives `vfio-dev` (the kernel's is dynamic). */
const VFIO_DEV_MAJOR = 510;

/**
 * A vfio device's own struct device (6.1+): `<device>/vfio-dev/vfioN` and `class/vfio-dev/vfioN`;
 * with the 6.6+ cdev it also has a `dev` attribute (`major:minor` of `/dev/vfio/devices/vfioN`).
 */
export function linkVfioDev(v: Vfs, f: PciFunction, index: number, cdev: boolean): void {
  const dir = `${devicePath(f)}/vfio-dev/vfio${index}`;
  v.mkdir(dir);
  if (cdev) v.file(`${dir}/dev`, `${VFIO_DEV_MAJOR}:${index}\n`);
  v.symlink(`class/vfio-dev/vfio${index}`, relativeTarget(`class/vfio-dev/vfio${index}`, dir));
}

/** vfio device unregistration: its `vfio-dev` entries go. */
export function unlinkVfioDev(v: Vfs, f: PciFunction, index: number): void {
  v.remove(`${devicePath(f)}/vfio-dev`);
  v.remove(`class/vfio-dev/vfio${index}`);
}

/**
 * sysfs `resource` for BAR sizes: `start end flags` per resource as `resource_show` prints them,
 * 17 lines on x86-64 (6 BARs, ROM, 6 SR-IOV BARs, 4 bridge windows). Addresses are made up — each
 * BAR naturally aligned in a window of its own — since only the sizes are modelled.
 */
function resourceText(bars: readonly number[]): string {
  const line = (start: bigint, end: bigint, flags: number) =>
    `0x${start.toString(16).padStart(16, '0')} 0x${end.toString(16).padStart(16, '0')} 0x${flags.toString(16).padStart(16, '0')}\n`;
  let out = '';
  for (let i = 0; i < 17; i++) {
    const size = i < 6 ? (bars[i] ?? 0) : 0;
    if (size === 0) {
      out += line(0n, 0n, 0);
      continue;
    }
    // IORESOURCE_MEM (0x200) for memory BARs; a BAR under 256 bytes is taken as I/O (0x100).
    const start = 0x8000_0000_0000n + BigInt(i) * 0x10_0000_0000n;
    out += line(start, start + BigInt(size) - 1n, size < 256 ? 0x100 : 0x200);
  }
  return out;
}
