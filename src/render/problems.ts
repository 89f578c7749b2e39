/**
 * Problems as sentences. One function per code, so every message names the device in the way
 * with its driver and group and says what would fix it.
 * @module
 */

import type { DeviceRef, DomainProblem, NoHotResetReason, Problem } from '../host/problems.ts';

export function formatRef(r: DeviceRef): string {
  return `${r.bdf} (group ${r.group ?? 'none'}, driver ${r.driver ?? 'none'})`;
}

export function formatNoHotResetReason(r: NoHotResetReason): string {
  switch (r.code) {
    case 'root-bus':
      return 'it sits on a root bus, which has no bridge to reset';
    case 'virtual-bus':
      return 'it sits on a virtual bus (SR-IOV), which has no bridge to reset';
    case 'no-bus-reset':
      return `${r.on} carries the NO_BUS_RESET quirk`;
  }
}

export function formatProblem(p: Problem): string {
  switch (p.code) {
    case 'no-function-reset':
      return `${p.bdf} has no function reset (reset_method is empty): VFIO_DEVICE_RESET fails with EINVAL; only a hot reset can reset it`;
    case 'stale-bus-method':
      return `${p.bdf} lists 'bus', but ${formatRef(p.sibling)} shares its bus: that method fails with ENOTTY at reset time`;
    case 'no-hot-reset':
      return `${p.bdf} cannot be hot reset: ${formatNoHotResetReason(p.reason)} (hot-reset INFO and HOT_RESET fail with ENODEV)`;
    case 'group-not-viable':
      return `IOMMU group ${p.group} of ${p.bdf} also holds ${formatRef(p.blocker)}, a DMA-using host driver: the group is not viable for VFIO until that device is unbound or bound to vfio-pci`;
    case 'no-iommu-group':
      return `${p.bdf} has no IOMMU group (is the IOMMU on? intel_iommu=on / amd_iommu=on): VFIO cannot use it`;
    case 'scope-has-bridge':
    case 'scope-not-vfio':
    case 'scope-crosses-groups':
    case 'hotplug-port-plain-sbr':
      return domainSentence(p.bdf, p);
    case 'bus-method-below-pciehp':
      return `${p.bdf}'s 'bus' reset method cannot use slot ${p.slot}'s reset_slot (multifunction bit or no slot of its own), so it resets the bus below ${formatRef(p.port)} with a plain secondary bus reset: pciehp sees the link drop and removes, then re-adds, the device${p.severity === 'warning' ? ' — and it is the method a function reset (VFIO_DEVICE_RESET) uses now' : ''}`;
    case 'no-bus-reset-quirk':
      return `${formatRef(p.on)} carries the NO_BUS_RESET quirk: the kernel refuses slot and bus resets there`;
    case 'root-bus-device':
      return `${p.bdf} is integrated on a root bus: only a function reset is possible`;
    case 'partial-config':
      return `${p.bdf}: only ${p.bytes} bytes of config space were readable (run as root for all of it); capabilities and computed reset methods are unknown`;
    case 'reset-methods-differ':
      return `${p.bdf}: sysfs lists reset methods [${p.sysfs.join(' ')}] but the model computes [${p.computed.join(' ')}]`;
    case 'group-differs':
      return `${p.bdf}: sysfs puts it in IOMMU group ${p.sysfs ?? 'none'} but the model computes ${p.computed ?? 'none'}`;
  }
}

/** A reset domain's problem, said of the whole slot or bus (`scan --json` lists each domain once). */
export function formatDomainProblem(d: { kind: 'slot' | 'bus'; target: string }, p: DomainProblem): string {
  return domainSentence(`${d.kind} ${d.target}`, p);
}

/** `subject`: the function whose hot reset is meant, or the slot or bus as a whole. */
function domainSentence(subject: string, p: DomainProblem): string {
  switch (p.code) {
    case 'scope-has-bridge':
      return `hot reset of ${subject} would also reset bridge ${formatRef(p.blocker)}; vfio-pci never binds bridges, so HOT_RESET fails with EINVAL`;
    case 'scope-not-vfio':
      return `hot reset of ${subject} needs ${formatRef(p.blocker)}, which is not bound to vfio-pci: HOT_RESET fails with EINVAL until it is`;
    case 'scope-crosses-groups':
      return `hot reset of ${subject} spans IOMMU groups ${p.groups.join(', ')}: group mode must pass one open fd for each`;
    case 'hotplug-port-plain-sbr':
      return `${subject} sits below hotplug port ${formatRef(p.port)} whose slot ${p.slot} is driven by ${p.slotDriver}, which has no reset_slot: a bus reset takes the link down and may be seen as a surprise removal`;
  }
}

export const SEVERITY_MARK = { blocker: '✗', warning: '!', info: 'i' } as const;
