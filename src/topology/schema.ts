/**
 * The host topology file: a human-written description of a PCI host, shaped like the tree
 * `lspci -tv` prints. YAML 1.2 or JSON. This module only says what a valid file looks like
 * (zod 4, strict objects, per-device rules); `to-host.ts` turns a valid file into a `HostDesc`
 * (bus numbers, defaults per kind, slots) and `load.ts` reads text and reports problems with
 * their line and column.
 *
 * ```yaml
 * name: small
 * roots:
 *   - devices:                       # root bus 0000:00
 *       - { bdf: "00:00.0", kind: host-bridge, id: "8086:29c0" }
 *       - bdf: "00:02.0"
 *         kind: root-port            # PCIe, ACS full, link 2.5 GT/s x1, driver pcieport
 *         id: "1b36:000c"
 *         slot: { number: 1, hotplug: pciehp }
 *         below:                     # its secondary bus (01) comes from the children
 *           - { bdf: "01:00.0", kind: endpoint, id: "8086:10d3", class: "0x020000", pm: true, driver: vfio-pci }
 * ```
 * @module
 */

import { z } from 'zod';
import { BdfError, parseBdf } from '../pci/bdf.ts';
import { ACS_BITS, type AcsBit, LINK_SPEEDS, type PcieType, QUIRK_FLAGS } from '../pci/model.ts';

/** What each `kind` means: PCIe type (null = conventional PCI), header, defaults. */
export const DEVICE_KINDS = {
  endpoint: { pcie: 'endpoint', bridge: false, classCode: null, acs: false, driver: null, slot: 'none' },
  'rc-endpoint': {
    pcie: 'rc-endpoint',
    bridge: false,
    classCode: null,
    acs: false,
    driver: null,
    slot: 'none',
  },
  'legacy-endpoint': {
    pcie: 'legacy-endpoint',
    bridge: false,
    classCode: null,
    acs: false,
    driver: null,
    slot: 'none',
  },
  'root-port': {
    pcie: 'root-port',
    bridge: true,
    classCode: 0x060400,
    acs: true,
    driver: 'pcieport',
    slot: 'port',
  },
  'upstream-port': {
    pcie: 'upstream',
    bridge: true,
    classCode: 0x060400,
    acs: false,
    driver: 'pcieport',
    slot: 'none',
  },
  'downstream-port': {
    pcie: 'downstream',
    bridge: true,
    classCode: 0x060400,
    acs: true,
    driver: 'pcieport',
    slot: 'port',
  },
  'pcie-to-pci-bridge': {
    pcie: 'pcie-to-pci',
    bridge: true,
    classCode: 0x060400,
    acs: false,
    driver: null,
    slot: 'bus',
  },
  'pci-bridge': { pcie: null, bridge: true, classCode: 0x060400, acs: false, driver: null, slot: 'bus' },
  'pci-to-pcie-bridge': {
    pcie: 'pci-to-pcie',
    bridge: true,
    classCode: 0x060400,
    acs: false,
    driver: null,
    slot: 'port',
  },
  'host-bridge': { pcie: null, bridge: false, classCode: 0x060000, acs: false, driver: null, slot: 'none' },
  conventional: { pcie: null, bridge: false, classCode: null, acs: false, driver: null, slot: 'none' },
  'rc-event-collector': {
    pcie: 'rc-event-collector',
    bridge: false,
    classCode: 0x080700,
    acs: false,
    driver: 'pcieport',
    slot: 'none',
  },
} as const satisfies Record<
  string,
  {
    /** PCIe Device/Port Type, or null for a conventional PCI function (no PCIe capability). */
    pcie: PcieType | null;
    /** Type 1 header with a secondary bus (`below:`, `bus:`). */
    bridge: boolean;
    /** Class code used when the file gives none; null = `class` is required. */
    classCode: number | null;
    /** ACS full by default (`acs: none` to drop it). */
    acs: boolean;
    /** Driver used when the file says nothing (`driver: null` for none). */
    driver: string | null;
    /** `port`: takes `slot:` (PCIe Slot Capabilities); `bus`: takes `slots:` (per-device slots below it). */
    slot: 'port' | 'bus' | 'none';
  }
>;
export type DeviceKind = keyof typeof DEVICE_KINDS;
const KIND_NAMES = Object.keys(DEVICE_KINDS) as [DeviceKind, ...DeviceKind[]];

/** Hotplug drivers for a PCIe port's slot; `pci_slot` = an ACPI slot without hotplug, `none` = no slot object. */
export const PORT_HOTPLUG = ['pciehp', 'acpiphp', 'pci_slot', 'pnv_php', 's390_pci_hpc', 'none'] as const;
/** Hotplug drivers for per-device slots on a conventional bus (SHPC or ACPI). */
export const BUS_HOTPLUG = ['shpchp', 'acpiphp', 'pci_slot'] as const;
export const LINK_SPEED_NAMES = [
  ...(Object.keys(LINK_SPEEDS) as (keyof typeof LINK_SPEEDS)[]),
  'unknown',
] as const;
const ACS_NAMES = Object.keys(ACS_BITS) as [AcsBit, ...AcsBit[]];
/** `acs: full`: what Linux enables at boot (pci_std_enable_acs) on a port that has all four. */
export const ACS_FULL: readonly AcsBit[] = ['sv', 'rr', 'cr', 'uf'];
export const LINK_WIDTHS = [0, 1, 2, 4, 8, 12, 16, 32] as const;

// ---- scalar forms ----------------------------------------------------------------------------

const bdfText = z
  .string()
  .superRefine((v, ctx) => {
    try {
      parseBdf(v);
    } catch (e) {
      const reason = e instanceof BdfError ? e.reason : 'malformed';
      ctx.addIssue({
        code: 'custom',
        message: `"${v}" is not a PCI address (${reason}); write bb:dd.f or dddd:bb:dd.f in hex, e.g. "01:00.0"`,
      });
    }
  })
  .meta({
    description: 'PCI address as lspci prints it: bb:dd.f or dddd:bb:dd.f (hex)',
    examples: ['01:00.0', '0000:01:00.0'],
  });

const idPair = (what: string, example: string) =>
  z
    .string()
    .regex(/^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$/, `expected ${what} as "vvvv:dddd" in hex, e.g. "${example}"`)
    .meta({ description: `${what}, "vvvv:dddd" in hex as \`lspci -nn\` shows it`, examples: [example] });

const classText = z
  .string()
  .superRefine((v, ctx) => {
    if (/^(0x)?[0-9a-fA-F]{6}$/.test(v)) return;
    const short = /^(?:0x)?([0-9a-fA-F]{4})$/.exec(v);
    ctx.addIssue({
      code: 'custom',
      message: short
        ? `class "${v}" has 4 hex digits; the class code is 24 bits (base class, sub-class, prog-if), e.g. "0x${short[1]}00" (lspci -n omits the prog-if)`
        : `expected a 24-bit class code in hex, e.g. "0x020000"`,
    });
  })
  .meta({ description: '24-bit class code in hex (sysfs `class`)', examples: ['0x020000', '0x010802'] });

const hexByte = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{1,2}$/, 'expected one byte in hex, e.g. "0x01" (lspci\'s "rev 01")')
  .meta({ description: 'revision ID in hex', examples: ['0x01'] });

const hexWord = z
  .string()
  .regex(/^(0x)?[0-9a-fA-F]{4}$/, 'expected a 16-bit id in hex, e.g. "10ca"')
  .meta({ description: 'device id in hex', examples: ['10ca'] });

/** An integer, or a hex string (lspci prints bus and device numbers in hex). */
const numberOrHex = (max: number, digits: number, what: string) =>
  z
    .union([
      z.int().min(0).max(max),
      z
        .string()
        .regex(new RegExp(`^(0x)?[0-9a-fA-F]{1,${digits}}$`), `expected ${what} in hex, e.g. "1a"`)
        .refine((v) => hexOrInt(v) <= max, `must be at most ${max.toString(16)} (hex)`),
    ])
    .meta({ description: `${what}: an integer (0x1a is hex in YAML 1.2) or a hex string like "1a"` });

const busNumber = numberOrHex(0xff, 2, 'a bus number');
const domainNumber = numberOrHex(0xffff, 4, 'a PCI domain (segment)');
const deviceNumber = numberOrHex(0x1f, 2, 'a device (slot) number');

// ---- capabilities -----------------------------------------------------------------------------

const pmSchema = z.union([z.boolean(), z.strictObject({ no_soft_reset: z.boolean().optional() })]).meta({
  description: 'PCI Power Management capability; no_soft_reset = PMCSR No_Soft_Reset (no "pm" reset)',
});

const afSchema = z
  .union([z.boolean(), z.strictObject({ tp: z.boolean().optional(), flr: z.boolean().optional() })])
  .meta({ description: 'Advanced Features capability (conventional-PCI FLR); true = TP and FLR' });

const acsBits = z.array(z.enum(ACS_NAMES));
const acsSchema = z
  .union([
    z.enum(['none', 'full']),
    z.strictObject({
      cap: acsBits.meta({ description: 'ACS Capability register bits' }),
      ctrl: acsBits.optional().meta({ description: 'ACS Control register bits (default: same as cap)' }),
    }),
  ])
  .meta({ description: 'ACS: none, full (SV RR CR UF capable and enabled), or {cap: [...], ctrl: [...]}' });

const linkSchema = z
  .strictObject({
    speed: z
      .union([z.enum(LINK_SPEED_NAMES), z.literal([2.5, 5, 8, 16, 32, 64])])
      .optional()
      .meta({
        description: 'max link speed in GT/s; unknown = LNKCAP.SLS and LNKCAP2 both 0 (QEMU xio3130)',
      }),
    width: z
      .literal(LINK_WIDTHS)
      .optional()
      .meta({ description: 'max link width (lanes); 0 when the port leaves it unset' }),
    active_reporting: z
      .boolean()
      .optional()
      .meta({ description: 'LNKCAP Data Link Layer Link Active Reporting' }),
    active: z.boolean().optional().meta({ description: 'LNKSTA Data Link Layer Link Active, at rest' }),
    lnkcap2: z.boolean().optional().meta({
      description: 'LNKCAP2 Supported Link Speeds vector present (default true unless speed is unknown)',
    }),
  })
  .meta({ description: 'PCIe link capability; default 2.5 GT/s x1, no active reporting, link up' });

const portSlotSchema = z
  .strictObject({
    number: z.int().min(0).max(0x1fff).meta({ description: 'Physical Slot Number (SLTCAP)' }),
    name: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'name under /sys/bus/pci/slots (default: the number)' }),
    hotplug: z.enum(PORT_HOTPLUG).meta({ description: 'slot driver; pci_slot = ACPI slot without hotplug' }),
    hotplug_capable: z.boolean().optional().meta({
      description:
        'SLTCAP Hot-Plug Capable (default: true unless hotplug is pci_slot or none); e.g. true with hotplug: none for a hotplug port no driver claimed',
    }),
    attention_button: z.boolean().optional(),
    power_controller: z.boolean().optional(),
    surprise: z.boolean().optional(),
    no_command_completed: z.boolean().optional(),
  })
  .meta({
    description: 'PCIe slot below this port: sets Slot Capabilities and, unless hotplug is none, a slot',
  });

const busSlotSchema = z
  .strictObject({
    device: deviceNumber,
    number: z.int().min(0).max(0xffff).meta({ description: 'physical slot number (ACPI _SUN / SHPC)' }),
    name: z.string().min(1).optional(),
    hotplug: z.enum(BUS_HOTPLUG),
  })
  .meta({ description: 'a per-device slot on the bus below (SHPC or ACPI)' });

const sriovSchema = z.strictObject({
  total_vfs: z.int().min(0).max(0xffff),
  num_vfs: z.int().min(0).max(0xffff).optional(),
  vf_device: hexWord,
});

/** How a message names the device's kind (and says when that kind is conventional PCI). */
const kindHint = (kind: DeviceKind) =>
  DEVICE_KINDS[kind].pcie === null
    ? `kind ${kind} is conventional PCI, which has no PCIe capability`
    : `kind ${kind}`;

function checkDevice(d: DeviceInput, ctx: z.RefinementCtx): void {
  const k = DEVICE_KINDS[d.kind];
  const add = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  const pcieOnly = k.pcie === null;
  if (pcieOnly) {
    const hint = kindHint(d.kind);
    if (d.flr === true)
      add(
        ['flr'],
        `${hint}; FLR is a PCIe Device Capability (use af_flr for conventional PCI, or a PCIe kind)`,
      );
    if (d.link !== undefined) add(['link'], `${hint} and so no link (drop link, or use a PCIe kind)`);
    if (d.acs !== undefined && d.acs !== 'none')
      add(['acs'], `${hint}; ACS is a PCIe extended capability (drop acs, or use a PCIe kind)`);
    if (d.sriov !== undefined) add(['sriov'], `${hint}; SR-IOV needs PCIe (drop sriov, or use a PCIe kind)`);
  }
  if (d.slot !== undefined && k.slot !== 'port')
    add(
      ['slot'],
      `only root ports, downstream ports and PCI-to-PCIe bridges have a PCIe slot (${k.slot === 'bus' ? 'use slots: for per-device slots on a conventional bus' : 'drop slot'})`,
    );
  if (d.slots !== undefined && k.slot !== 'bus')
    add(
      ['slots'],
      `per-device slots belong on a conventional bus: below a pci-bridge or pcie-to-pci-bridge, or on a root (${k.slot === 'port' ? 'a PCIe port takes slot:' : 'drop slots'})`,
    );
  if (!k.bridge) {
    if (d.subordinate !== undefined)
      add(['subordinate'], `kind ${d.kind} is not a bridge and has no subordinate bus (drop subordinate)`);
    if (d.below !== undefined)
      add(['below'], `kind ${d.kind} is not a bridge; only bridges have devices below them`);
    if (d.bus !== undefined)
      add(['bus'], `kind ${d.kind} is not a bridge and has no secondary bus (drop bus)`);
  }
  if (d.class === undefined && k.classCode === null)
    add(
      ['class'],
      `kind ${d.kind} needs a class code, e.g. class: "0x020000" (lspci -nn shows it as [0200])`,
    );
  const acs = d.acs;
  if (typeof acs === 'object') {
    const extra = (acs.ctrl ?? []).filter((b) => !acs.cap.includes(b));
    if (extra.length > 0)
      add(
        ['acs', 'ctrl'],
        `enables ${extra.join(', ')}, which cap does not list (add them to cap or drop them)`,
      );
  }
  if (d.sriov && (d.sriov.num_vfs ?? 0) > d.sriov.total_vfs)
    add(['sriov', 'num_vfs'], `is above total_vfs (${d.sriov.total_vfs})`);
  if (d.virtfn === true && d.multifunction === true)
    add(['multifunction'], 'a virtual function has no header type of its own (drop multifunction)');
}

// ---- device and file --------------------------------------------------------------------------

/** The shape of one device entry as written (before defaults). */
export interface DeviceInput {
  bdf: string;
  kind: DeviceKind;
  id: string;
  class?: string | undefined;
  subsystem?: string | undefined;
  revision?: string | undefined;
  label?: string | undefined;
  bars?: number[] | undefined;
  driver?: string | null | undefined;
  driver_override?: string | null | undefined;
  multifunction?: boolean | undefined;
  virtfn?: boolean | undefined;
  flr?: boolean | undefined;
  pm?: z.infer<typeof pmSchema> | undefined;
  af_flr?: z.infer<typeof afSchema> | undefined;
  acs?: z.infer<typeof acsSchema> | undefined;
  link?: z.infer<typeof linkSchema> | undefined;
  slot?: z.infer<typeof portSlotSchema> | undefined;
  slots?: z.infer<typeof busSlotSchema>[] | undefined;
  sriov?: z.infer<typeof sriovSchema> | undefined;
  quirks?: (typeof QUIRK_FLAGS)[number][] | undefined;
  acpi_reset?: boolean | undefined;
  bus?: number | string | undefined;
  subordinate?: number | string | undefined;
  below?: DeviceInput[] | undefined;
}

const deviceShape = {
  bdf: bdfText,
  kind: z
    .enum(KIND_NAMES)
    .meta({ description: 'what the function is (decides PCIe type, header and defaults)' }),
  id: idPair('vendor:device', '8086:10d3'),
  class: classText.optional(),
  subsystem: idPair('subsystem vendor:device', '8086:0000').optional(),
  revision: hexByte.optional(),
  label: z.string().optional().meta({ description: 'free text, e.g. the lspci name' }),
  bars: z
    .array(
      z
        .number()
        .int()
        .nonnegative()
        .max(2 ** 52),
    )
    .max(6)
    .optional()
    .meta({ description: 'BAR0–BAR5 sizes in bytes (0: not implemented), as sysfs `resource` shows them' }),
  driver: z
    .string()
    .min(1)
    .nullable()
    .optional()
    .meta({ description: 'bound driver, or null (default per kind)' }),
  driver_override: z.string().min(1).nullable().optional(),
  multifunction: z.boolean().optional().meta({
    description: 'Header Type bit 7 (default: true on function 0 when other functions share its slot)',
  }),
  virtfn: z.boolean().optional().meta({ description: 'an SR-IOV virtual function' }),
  flr: z.boolean().optional().meta({ description: 'PCIe DEVCAP Function Level Reset' }),
  pm: pmSchema.optional(),
  af_flr: afSchema.optional(),
  acs: acsSchema.optional(),
  link: linkSchema.optional(),
  slot: portSlotSchema.optional(),
  slots: z.array(busSlotSchema).optional(),
  sriov: sriovSchema.optional(),
  quirks: z
    .array(z.enum(QUIRK_FLAGS))
    .optional()
    .meta({ description: 'PCI_DEV_FLAGS beyond the kernel tables' }),
  acpi_reset: z.boolean().optional().meta({ description: 'firmware _RST (the "acpi" reset method)' }),
  bus: busNumber
    .optional()
    .meta({ description: 'secondary bus (default: the bus of the devices below, else the next free)' }),
  subordinate: busNumber.optional().meta({
    description:
      'subordinate bus, the highest bus routed below (default: the highest bus below); firmware often reserves more for hotplug',
  }),
  get below(): z.ZodOptional<z.ZodArray<z.ZodType<DeviceInput>>> {
    return z.array(DeviceSchema).optional();
  },
};

export const DeviceSchema: z.ZodType<DeviceInput> = z
  .strictObject(deviceShape)
  .superRefine(checkDevice)
  .meta({ description: 'one PCI function; bridges list the functions on their secondary bus in below' });

const rootShape = {
  domain: domainNumber.optional(),
  bus: busNumber.optional(),
  devices: z.array(DeviceSchema).min(1),
  slots: z.array(busSlotSchema).optional(),
};
export const RootSchema = z
  .strictObject(rootShape)
  .meta({ description: 'a root bus (host bridge): domain and bus default to 0' });

const fileShape = {
  $schema: z.string().optional(),
  name: z.string().min(1).meta({ description: 'name of the host' }),
  description: z.string().optional(),
  roots: z.array(RootSchema).min(1),
};
export const TopologyFileSchema = z.strictObject(fileShape).meta({
  title: 'vfio-reset host topology',
  description:
    'A PCI host for vfio-reset: root buses, the devices on them and the buses below their bridges.',
});

export type TopologyFile = z.infer<typeof TopologyFileSchema>;
export type RootInput = z.infer<typeof RootSchema>;

const keysOf = (shape: object) => Object.keys(shape);
/** The fields an object at `path` may have, for "unknown field" hints; null when not an object of ours. */
export function knownFields(path: readonly PropertyKey[]): string[] | null {
  const last = path[path.length - 1];
  const prev = path[path.length - 2];
  if (path.length === 0) return keysOf(fileShape);
  if (typeof last === 'number') {
    if (prev === 'roots' && path.length === 2) return keysOf(rootShape);
    if (prev === 'devices' || prev === 'below') return keysOf(deviceShape);
    if (prev === 'slots') return keysOf(busSlotSchema.shape);
    return null;
  }
  switch (last) {
    case 'link':
      return keysOf(linkSchema.shape);
    case 'slot':
      return keysOf(portSlotSchema.shape);
    case 'pm':
      return ['no_soft_reset'];
    case 'af_flr':
      return ['tp', 'flr'];
    case 'acs':
      return ['cap', 'ctrl'];
    case 'sriov':
      return keysOf(sriovSchema.shape);
    default:
      return null;
  }
}

/** Parses the hex forms the schema accepts ("1a", "0x1a") or passes an integer through. */
export function hexOrInt(v: number | string): number {
  return typeof v === 'number' ? v : Number.parseInt(v.replace(/^0x/i, ''), 16);
}
