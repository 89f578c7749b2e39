/**
 * What the real kernel showed vs what our simulated twin predicts, from sysfs alone: the guest's
 * dump and the simulator's projection of the example topology are both read with
 * `readSysfsHost`, and compared function by function — presence, driver, `reset_method` (and
 * whether the `reset` file exists), IOMMU group mates — and slot by slot (which driver owns each
 * hotplug slot). Group numbers differ between any two boots; the partition into groups is what
 * is compared. The rig's own virtio-9p functions are left out (the examples leave them out too).
 * @module
 */

import { readSysfsHost, type SysfsHost } from '../host/read-sysfs.ts';
import type { SysfsReader } from '../kernel/sysfs.ts';
import { formatBdf } from '../pci/bdf.ts';
import { SHARE_SLOTS } from './qemu.ts';

export interface Difference {
  what: 'function' | 'driver' | 'reset_method' | 'reset file' | 'group mates' | 'slot';
  where: string;
  predicted: string;
  real: string;
}

const RIG_OWN = new Set(Object.values(SHARE_SLOTS).map((s) => `0000:00:${s.slice(2).padStart(2, '0')}.0`));

interface Facts {
  drivers: Map<string, string>;
  methods: Map<string, string>;
  resetFile: Map<string, boolean>;
  mates: Map<string, string>;
  slots: Map<string, string>;
}

function facts(h: SysfsHost): Facts {
  const f: Facts = {
    drivers: new Map(),
    methods: new Map(),
    resetFile: new Map(),
    mates: new Map(),
    slots: new Map(),
  };
  const groups = new Map<number, string[]>();
  for (const fn of h.desc.functions) {
    const bdf = formatBdf(fn.bdf);
    if (RIG_OWN.has(bdf)) continue;
    f.drivers.set(bdf, fn.driver ?? '(none)');
    const o = h.observed.get(bdf);
    f.methods.set(
      bdf,
      o?.resetMethods === null || o === undefined ? '(no file)' : `"${o.resetMethods.join(' ')}"`,
    );
    f.resetFile.set(bdf, o?.hasResetFile ?? false);
    if (o?.iommuGroup !== null && o?.iommuGroup !== undefined) {
      const g = groups.get(o.iommuGroup) ?? [];
      g.push(bdf);
      groups.set(o.iommuGroup, g);
    }
  }
  for (const members of groups.values())
    for (const m of members)
      f.mates.set(
        m,
        members
          .filter((x) => x !== m)
          .sort()
          .join(' ') || '(alone)',
      );
  for (const s of h.desc.slots)
    f.slots.set(
      `${s.domain.toString(16).padStart(4, '0')}:${s.bus.toString(16).padStart(2, '0')}:${s.device.toString(16).padStart(2, '0')}`,
      `${s.driver} "${s.name}"`,
    );
  return f;
}

export function compareSysfs(predicted: SysfsReader, real: SysfsReader): Difference[] {
  const p = facts(readSysfsHost(predicted));
  const r = facts(readSysfsHost(real));
  const out: Difference[] = [];
  const all = [...new Set([...p.drivers.keys(), ...r.drivers.keys()])].sort();
  for (const bdf of all) {
    if (!p.drivers.has(bdf) || !r.drivers.has(bdf)) {
      out.push({
        what: 'function',
        where: bdf,
        predicted: p.drivers.has(bdf) ? 'present' : 'absent',
        real: r.drivers.has(bdf) ? 'present' : 'absent',
      });
      continue;
    }
    const cmp = (what: Difference['what'], a: string | undefined, b: string | undefined) => {
      if (a !== b) out.push({ what, where: bdf, predicted: a ?? '?', real: b ?? '?' });
    };
    cmp('driver', p.drivers.get(bdf), r.drivers.get(bdf));
    cmp('reset_method', p.methods.get(bdf), r.methods.get(bdf));
    cmp('reset file', String(p.resetFile.get(bdf)), String(r.resetFile.get(bdf)));
    cmp('group mates', p.mates.get(bdf) ?? '(no group)', r.mates.get(bdf) ?? '(no group)');
  }
  for (const addr of [...new Set([...p.slots.keys(), ...r.slots.keys()])].sort()) {
    const a = p.slots.get(addr) ?? '(no slot)';
    const b = r.slots.get(addr) ?? '(no slot)';
    if (a !== b) out.push({ what: 'slot', where: addr, predicted: a, real: b });
  }
  return out;
}

export function differenceText(d: Difference): string {
  return `${d.what} ${d.where}: predicted ${d.predicted}, kernel ${d.real}`;
}

/**
 * The text of a list of differences, with runs of slots the twin lacks on one bus folded into one
 * line (QEMU's ACPI tables give a pcie-pci-bridge 32 acpiphp slots; the examples list only the
 * occupied ones).
 */
export function differencesText(ds: readonly Difference[]): string[] {
  const out: string[] = [];
  const folded = new Map<string, Difference[]>();
  for (const d of ds) {
    if (d.what === 'slot' && d.predicted === '(no slot)') {
      const bus = d.where.slice(0, d.where.lastIndexOf(':'));
      const run = folded.get(bus);
      if (run) {
        run.push(d);
        continue;
      }
      folded.set(bus, [d]);
    }
    out.push(differenceText(d));
  }
  for (const [bus, run] of folded) {
    if (run.length < 2) continue;
    const i = out.indexOf(differenceText(run[0]!));
    const driver = run[0]!.real.split(' ')[0];
    const names = run.map((d) => /"(.*)"/.exec(d.real)?.[1] ?? '?');
    out[i] =
      `slot ${bus}:${run[0]!.where.slice(-2)}..${run.at(-1)!.where.slice(-2)}: predicted (no slot), kernel ${run.length} ${driver} slots "${names[0]}".."${names.at(-1)}"`;
  }
  return out;
}
