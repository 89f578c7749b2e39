/**
 * Kernel quirk knowledge keyed by vendor/device: `PCI_DEV_FLAGS_*` set by `drivers/pci/quirks.c`
 * fixups, and the `pci_dev_reset_methods[]` table behind the `device_specific` reset method.
 * Facts only (ids and which flag), paraphrased from the kernel; kept apart from the model so the
 * rules in `reset-methods.ts` and `iommu-groups.ts` stay generic.
 * @module
 */

import type { FunctionDesc, QuirkFlag } from './model.ts';

const ANY = -1;

interface FlagQuirk {
  vendor: number;
  device: number;
  flag: QuirkFlag;
  why: string;
}

const FLAG_QUIRKS: readonly FlagQuirk[] = [
  // quirk_no_bus_reset: devices whose link does not come back after SBR, or that leak state.
  { vendor: 0x168c, device: 0x0030, flag: 'NO_BUS_RESET', why: 'Atheros AR93xx: link fails after SBR' },
  { vendor: 0x168c, device: 0x0032, flag: 'NO_BUS_RESET', why: 'Atheros AR9485' },
  { vendor: 0x168c, device: 0x0033, flag: 'NO_BUS_RESET', why: 'Atheros AR9580' },
  { vendor: 0x168c, device: 0x0034, flag: 'NO_BUS_RESET', why: 'Atheros AR9462' },
  { vendor: 0x168c, device: 0x003c, flag: 'NO_BUS_RESET', why: 'Atheros QCA988x' },
  { vendor: 0x168c, device: 0x003e, flag: 'NO_BUS_RESET', why: 'Atheros QCA6174' },
  { vendor: 0x104c, device: 0xb005, flag: 'NO_BUS_RESET', why: 'TI KeyStone C667x: leaks state across SBR' },
  { vendor: 0x177d, device: ANY, flag: 'NO_BUS_RESET', why: 'Cavium: SBR hangs some parts' },
  // quirk_no_flr: FLR advertised but broken.
  { vendor: 0x1022, device: 0x149c, flag: 'NO_FLR_RESET', why: 'AMD Matisse USB: FLR hangs' },
  { vendor: 0x1022, device: 0x1487, flag: 'NO_FLR_RESET', why: 'AMD Starship/Matisse HD Audio: FLR hangs' },
  { vendor: 0x1022, device: 0x7901, flag: 'NO_FLR_RESET', why: 'AMD FCH SATA: FLR hangs' },
  { vendor: 0x8086, device: 0x1502, flag: 'NO_FLR_RESET', why: 'Intel 82579LM: FLR broken' },
  { vendor: 0x8086, device: 0x1503, flag: 'NO_FLR_RESET', why: 'Intel 82579V: FLR broken' },
  // quirk_no_pm_reset: AMD/ATI GPUs do not reset on D3hot->D0.
  {
    vendor: 0x1002,
    device: ANY,
    flag: 'NO_PM_RESET',
    why: 'AMD/ATI GPU: D3hot->D0 does not reset (VGA class only)',
  },
];

function matches(q: { vendor: number; device: number }, f: Pick<FunctionDesc, 'vendor' | 'device'>): boolean {
  return q.vendor === f.vendor && (q.device === ANY || q.device === f.device);
}

/** Flags the kernel's quirk tables give this function (the description may add more). */
export function tableQuirks(f: Pick<FunctionDesc, 'vendor' | 'device' | 'classCode'>): QuirkFlag[] {
  const out: QuirkFlag[] = [];
  for (const q of FLAG_QUIRKS) {
    if (!matches(q, f)) continue;
    // quirk_no_pm_reset is registered for the VGA class only.
    if (q.flag === 'NO_PM_RESET' && f.classCode >> 8 !== 0x0300) continue;
    if (!out.includes(q.flag)) out.push(q.flag);
  }
  return out;
}

/** Why a table quirk applies, for explanations in `info`. */
export function quirkReason(f: Pick<FunctionDesc, 'vendor' | 'device'>, flag: QuirkFlag): string | null {
  return FLAG_QUIRKS.find((q) => q.flag === flag && matches(q, f))?.why ?? null;
}

interface DeviceSpecificReset {
  vendor: number;
  device: number;
  name: string;
  /** The quirk's own probe: some entries only apply when the device also has FLR, or a device-id pattern. */
  applies: (f: FunctionDesc) => boolean;
}

const hasFlr = (f: FunctionDesc) => f.pcie?.flr === true && !f.quirks.includes('NO_FLR_RESET');

/** `pci_dev_reset_methods[]`: the `device_specific` method (§4.1 row 1). */
const DEVICE_SPECIFIC: readonly DeviceSpecificReset[] = [
  { vendor: 0x8086, device: 0x10ed, name: 'reset_intel_82599_sfp_virtfn', applies: () => true },
  { vendor: 0x8086, device: 0x0156, name: 'reset_ivb_igd', applies: () => true },
  { vendor: 0x8086, device: 0x0166, name: 'reset_ivb_igd', applies: () => true },
  { vendor: 0x144d, device: 0xa804, name: 'nvme_disable_and_flr', applies: hasFlr },
  { vendor: 0x8086, device: 0x0953, name: 'delay_250ms_after_flr', applies: hasFlr },
  { vendor: 0x8086, device: 0x0a54, name: 'delay_250ms_after_flr', applies: hasFlr },
  // Chelsio T4 only: device ids 0x4xxx.
  {
    vendor: 0x1425,
    device: ANY,
    name: 'reset_chelsio_generic_dev',
    applies: (f) => (f.device & 0xf000) === 0x4000,
  },
  { vendor: 0x19e5, device: 0x375e, name: 'reset_hinic_vf_dev', applies: () => true },
];

/** The matching device-specific reset quirk whose own probe passes, if any. */
export function deviceSpecificReset(f: FunctionDesc): string | null {
  const q = DEVICE_SPECIFIC.find((e) => matches(e, f));
  return q?.applies(f) ? q.name : null;
}
