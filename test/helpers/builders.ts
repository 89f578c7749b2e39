/**
 * Small builders for hand-made hosts in unit tests: each returns a plain FunctionDesc so a test
 * states only what matters to the rule it checks.
 */
import { type Bdf, parseBdf } from '../../src/pci/bdf.ts';
import {
  ACS_BITS,
  type FunctionDesc,
  functionDefaults,
  type HostDesc,
  type PcieCap,
  type SlotDesc,
} from '../../src/pci/model.ts';
import { Topology } from '../../src/pci/topology.ts';

type Overrides = Partial<FunctionDesc>;

const link = (over: Partial<PcieCap> = {}): Omit<PcieCap, 'type'> => ({
  flr: false,
  linkSpeedCode: 1,
  linkSpeedsVector: 1,
  linkWidth: 1,
  dllActiveReporting: false,
  linkActive: true,
  ...over,
});

export const FULL_ACS = {
  cap: ACS_BITS.sv | ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.uf,
  ctrl: ACS_BITS.sv | ACS_BITS.rr | ACS_BITS.cr | ACS_BITS.uf,
};

function at(bdf: string | Bdf): Bdf {
  return typeof bdf === 'string' ? parseBdf(bdf) : bdf;
}

export function hostBridge(bdf = '00:00.0', over: Overrides = {}): FunctionDesc {
  return { ...functionDefaults(at(bdf)), vendor: 0x8086, device: 0x29c0, classCode: 0x060000, ...over };
}

/** PCIe endpoint; `pcie` fields may be overridden via `over.pcie`. */
export function endpoint(bdf: string, over: Overrides & { pcieOver?: Partial<PcieCap> } = {}): FunctionDesc {
  const { pcieOver, ...rest } = over;
  return { ...functionDefaults(at(bdf)), pcie: { type: 'endpoint', ...link(pcieOver) }, ...rest };
}

/** Conventional PCI endpoint with no capabilities (QEMU e1000). */
export function conventional(bdf: string, over: Overrides = {}): FunctionDesc {
  return { ...functionDefaults(at(bdf)), vendor: 0x8086, device: 0x100e, ...over };
}

function bridge(bdf: string, secondary: number, subordinate: number, over: Overrides): FunctionDesc {
  return {
    ...functionDefaults(at(bdf)),
    header: 'bridge',
    classCode: 0x060400,
    bridge: { secondary, subordinate },
    driver: 'pcieport',
    ...over,
  };
}

export function rootPort(
  bdf: string,
  secondary: number,
  over: Overrides & { pcieOver?: Partial<PcieCap> } = {},
): FunctionDesc {
  const { pcieOver, ...rest } = over;
  return bridge(bdf, secondary, over.bridge?.subordinate ?? secondary, {
    vendor: 0x1b36,
    device: 0x000c,
    pcie: { type: 'root-port', ...link(pcieOver) },
    acs: FULL_ACS,
    ...rest,
  });
}

export function downstreamPort(
  bdf: string,
  secondary: number,
  over: Overrides & { pcieOver?: Partial<PcieCap> } = {},
): FunctionDesc {
  const { pcieOver, ...rest } = over;
  return bridge(bdf, secondary, secondary, { pcie: { type: 'downstream', ...link(pcieOver) }, ...rest });
}

export function upstreamPort(
  bdf: string,
  secondary: number,
  subordinate: number,
  over: Overrides = {},
): FunctionDesc {
  return bridge(bdf, secondary, subordinate, { pcie: { type: 'upstream', ...link() }, ...over });
}

export function pcieToPciBridge(bdf: string, secondary: number, over: Overrides = {}): FunctionDesc {
  return bridge(bdf, secondary, secondary, {
    vendor: 0x1b36,
    device: 0x000e,
    pcie: { type: 'pcie-to-pci', ...link() },
    driver: null,
    ...over,
  });
}

export function pciBridge(bdf: string, secondary: number, over: Overrides = {}): FunctionDesc {
  return bridge(bdf, secondary, secondary, { driver: null, ...over });
}

export function slot(
  bus: number,
  name: string,
  driver: SlotDesc['driver'],
  device = 0,
  domain = 0,
): SlotDesc {
  return { domain, bus, device, name, driver };
}

export function host(functions: FunctionDesc[], slots: SlotDesc[] = [], name = 'test'): HostDesc {
  return { name, functions, slots };
}

export function topo(functions: FunctionDesc[], slots: SlotDesc[] = []): Topology {
  return Topology.build(host(functions, slots));
}
