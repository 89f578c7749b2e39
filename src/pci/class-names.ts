/**
 * Short names for PCI class codes (from the PCI Code and ID Assignment spec) and a coarse
 * device kind for display. Vendor/device names come from pci.ids elsewhere; these are the
 * fallbacks that need no database.
 * @module
 */

import { type FunctionDesc, isBridge } from './model.ts';

const SUBCLASS: Record<number, string> = {
  256: 'SCSI controller',
  257: 'IDE controller',
  260: 'RAID controller',
  262: 'SATA controller',
  263: 'SAS controller',
  264: 'NVMe controller',
  512: 'Ethernet controller',
  519: 'InfiniBand controller',
  640: 'Network controller',
  768: 'VGA controller',
  770: '3D controller',
  896: 'Display controller',
  1025: 'Audio device',
  1027: 'Audio device',
  1280: 'RAM memory',
  1536: 'Host bridge',
  1537: 'ISA bridge',
  1540: 'PCI bridge',
  1543: 'CardBus bridge',
  1545: 'PCI bridge',
  1792: 'Serial controller',
  2053: 'SD host controller',
  2176: 'System peripheral',
  2880: 'Co-processor',
  3072: 'FireWire controller',
  3075: 'USB controller',
  3077: 'SMBus',
  3200: 'Serial bus controller',
  4224: 'Encryption controller',
  4608: 'Processing accelerator',
  4864: 'Non-essential instrumentation',
};

const BASE: Record<number, string> = {
  0: 'Unclassified device',
  1: 'Mass storage controller',
  2: 'Network controller',
  3: 'Display controller',
  4: 'Multimedia controller',
  5: 'Memory controller',
  6: 'Bridge',
  7: 'Communication controller',
  8: 'System peripheral',
  9: 'Input device controller',
  10: 'Docking station',
  11: 'Processor',
  12: 'Serial bus controller',
  13: 'Wireless controller',
  14: 'Intelligent controller',
  15: 'Satellite controller',
  16: 'Encryption controller',
  17: 'Signal processing controller',
  18: 'Processing accelerator',
  19: 'Non-essential instrumentation',
  255: 'Unassigned class',
};

export function className(classCode: number): string {
  return (
    SUBCLASS[classCode >> 8] ??
    BASE[classCode >> 16] ??
    `Class ${(classCode >> 8).toString(16).padStart(4, '0')}`
  );
}

export type DeviceKind =
  | 'root-port'
  | 'upstream-port'
  | 'downstream-port'
  | 'pcie-to-pci-bridge'
  | 'pci-to-pcie-bridge'
  | 'pci-bridge'
  | 'endpoint'
  | 'rc-endpoint'
  | 'legacy-endpoint'
  | 'rc-event-collector'
  | 'conventional';

/** Root, upstream and downstream ports and the bridges: the kinds with a secondary bus. */
export function isBridgeKind(kind: DeviceKind): boolean {
  return kind.endsWith('port') || kind.endsWith('bridge');
}

export function deviceKind(f: FunctionDesc): DeviceKind {
  switch (f.pcie?.type) {
    case 'root-port':
      return 'root-port';
    case 'upstream':
      return 'upstream-port';
    case 'downstream':
      return 'downstream-port';
    case 'pcie-to-pci':
      return 'pcie-to-pci-bridge';
    case 'pci-to-pcie':
      return 'pci-to-pcie-bridge';
    case 'rc-endpoint':
      return 'rc-endpoint';
    case 'legacy-endpoint':
      return 'legacy-endpoint';
    case 'rc-event-collector':
      return 'rc-event-collector';
    case 'endpoint':
      return 'endpoint';
    default:
      return isBridge(f) ? 'pci-bridge' : 'conventional';
  }
}
