/**
 * Hand-built twins of the QEMU topologies of kernel-rig.md (RP, PPB, MF, SW), for unit tests of
 * the pure model; the example YAML files are the full versions.
 */
import type { FunctionDesc, SlotDriver } from '../../src/pci/model.ts';
import {
  conventional,
  downstreamPort,
  endpoint,
  hostBridge,
  pcieToPciBridge,
  rootPort,
  slot,
  topo,
  upstreamPort,
} from './builders.ts';

// QEMU devices as Linux sees them (hw/net/e1000e.c, hw/nvme/ctrl.c, hw/net/e1000.c).
/** e1000e (82574L): PCIe endpoint, no FLR, PM cap with PMCSR No_Soft_Reset clear. */
export const E1000E: Partial<FunctionDesc> = { vendor: 0x8086, device: 0x10d3, pm: { noSoftReset: false } };
/** nvme (1b36:0010): FLR (pcie_cap_flr_init) and a PM cap whose PMCSR sets No_Soft_Reset. */
export const NVME = {
  vendor: 0x1b36,
  device: 0x0010,
  classCode: 0x010802,
  pm: { noSoftReset: true },
  pcieOver: { flr: true },
};

/** RP: pcie-root-port → e1000e; ACPI hotplug mode gives an acpiphp slot (RPN: native pciehp). */
export function rigRP(driver: SlotDriver = 'acpiphp') {
  return topo([hostBridge(), rootPort('00:02.0', 1), endpoint('01:00.0', E1000E)], [slot(1, '2', driver)]);
}

/** PPB: pcie-root-port → pcie-pci-bridge → e1000 01.0 (multifunction=on) + e1000 01.1. */
export function rigPPB() {
  return topo(
    [
      hostBridge(),
      rootPort('00:03.0', 1, { bridge: { secondary: 1, subordinate: 2 } }),
      pcieToPciBridge('01:00.0', 2),
      conventional('02:01.0', { multifunctionBit: true }),
      conventional('02:01.1'),
    ],
    [slot(1, '3', 'acpiphp'), slot(2, '3-1', 'acpiphp', 1)],
  );
}

/** MF: pcie-root-port (2.5 GT/s) → e1000e 00.0 (multifunction=on) + e1000e 00.1. */
export function rigMF() {
  return topo(
    [
      hostBridge(),
      rootPort('00:04.0', 1),
      endpoint('01:00.0', { ...E1000E, multifunctionBit: true }),
      endpoint('01:00.1', E1000E),
    ],
    [slot(1, '4', 'acpiphp')],
  );
}

/** SW: pcie-root-port → x3130-upstream → xio3130-downstream → nvme. */
export function rigSW() {
  return topo(
    [
      hostBridge(),
      rootPort('00:05.0', 1, { bridge: { secondary: 1, subordinate: 3 } }),
      upstreamPort('01:00.0', 2, 3),
      downstreamPort('02:00.0', 3),
      endpoint('03:00.0', NVME),
    ],
    [slot(1, '5', 'acpiphp'), slot(3, '6', 'acpiphp')],
  );
}
