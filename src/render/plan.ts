/**
 * `plan` as text and JSON: the groups to bind (every member with its driver now), QEMU's reset of
 * each device and the verdict with its reasons, what a hot reset hits outside the set, the
 * warnings, and — with --what-if — what the simulated copy of the host did. Pure string building.
 * @module
 */

import { deviceTitle, type NameKey, type Namer } from '../names/namer.ts';
import type { BindRefusal } from '../plan/bind-plan.ts';
import type { HostUse } from '../plan/host-use.ts';
import type { BlockReason, Plan, PlanDevice, PlanWarning, QemuAction, Verdict } from '../plan/plan.ts';
import type { WhatIf, WhatIfReset } from '../plan/what-if.ts';
import { SCHEMA_VERSION } from './json.ts';
import { formatNoHotResetReason, formatProblem, formatRef, SEVERITY_MARK } from './problems.ts';

const refs = (list: { bdf: string; driver: string | null; group: number | null }[]) =>
  list.map(formatRef).join(', ');
const ms = (n: number) => `${Math.round(n)} ms`;

export const ACTION_TEXT: Record<QemuAction, string> = {
  'function-reset': 'function reset (VFIO_DEVICE_RESET)',
  'hot-reset-single': 'hot reset that touches no other device of the VM',
  'hot-reset-multi': 'multi-device hot reset at VM reset',
  'pm-reset': 'PM reset (D3hot→D0, QEMU’s last resort)',
};

export function formatHostUse(u: HostUse): string {
  const assumed = u.assumed ? ' (assumed on a simulated host)' : '';
  switch (u.code) {
    case 'boot-vga':
      return `is the boot/console GPU${assumed}`;
    case 'mounted-storage':
      return `holds mounted storage${u.disk ? ` (${u.disk}${u.mounts.length ? `: ${u.mounts.join(', ')}` : ''})` : ''}${assumed}`;
    case 'default-route':
      return `carries the default route${u.iface ? ` (${u.iface})` : ''}${assumed}`;
  }
}

export function formatBlockReason(r: BlockReason): string {
  switch (r.code) {
    case 'no-function-reset':
      return `the kernel has no working function reset for it${r.errno ? ` (${r.errno})` : ''}`;
    case 'function-reset-is-pm':
      return 'its only function reset is a PM reset, which QEMU tries last';
    case 'no-iommu-group':
      return 'it has no IOMMU group (is the IOMMU on?)';
    case 'no-hot-reset':
      return `no hot reset: ${formatNoHotResetReason(r.reason)}`;
    case 'scope-has-bridge':
      return `a hot reset would also reset bridge ${formatRef(r.bridge)}, which vfio-pci cannot own`;
    case 'scope-outside-set':
      return `a hot reset would also hit ${refs(r.devices)}, outside this plan's groups (QEMU: "depends on group … which is not owned"); add ${r.devices.length === 1 ? 'it' : 'them'} to the plan`;
    case 'scope-in-use':
      return `a hot reset of it alone would also reset ${refs(r.devices)}, which this VM uses; QEMU does that only at VM reset`;
  }
}

export function formatVerdict(v: Verdict, d: PlanDevice): string {
  const scope = d.hotReset ? `${d.hotReset.kind} ${d.hotReset.target}` : '';
  switch (v.kind) {
    case 'resettable':
      if (v.by === 'function-reset') return `resettable: function reset by ${v.method ?? 'the kernel'}`;
      if (v.by === 'hot-reset-single')
        return `resettable: hot reset of ${scope}, touching no other device of the VM`;
      return 'resettable only by a PM reset (QEMU’s last resort)';
    case 'resettable-together':
      return `resettable only together with ${v.with.map((w) => w.bdf).join(', ')}: multi-device hot reset of ${scope} at VM reset`;
    case 'not-resettable':
      return 'not resettable: QEMU has no reset for it, so its state carries over from one VM run to the next (only a host reboot resets it)';
  }
}

export function formatWarning(w: PlanWarning): string {
  switch (w.code) {
    case 'host-device-in-group':
      return `binding group ${w.group} for ${w.bdf} takes ${formatRef(w.device)} from the host, which ${formatHostUse(w.use)}; name it too if you mean it (bind refuses otherwise)`;
    case 'host-device-requested':
      return `${w.bdf} ${formatHostUse(w.use)}: the host loses it when it is bound to vfio-pci`;
    case 'slow-reset':
      return `${w.bdf}: its ${ACTION_TEXT[w.action]} takes ${ms(w.predictedMs)} in the timing model (over ${w.thresholdMs} ms); every VM reset waits for it`;
    case 'pm-reset-fallback':
      return `${w.bdf}: only a PM reset is left; it is QEMU's weakest reset and device state may survive it`;
    case 'reset-fails-in-model':
      return `${w.bdf}: its ${ACTION_TEXT[w.action]} fails in the timing model with ${w.errno} (the link or the device does not come back in time)`;
    default:
      return formatProblem(w);
  }
}

export function formatBindRefusal(r: BindRefusal): string {
  switch (r.code) {
    case 'host-device-in-group':
      return `group ${r.group} (for ${r.requestedBy.join(', ')}) holds ${formatRef(r.device)}, which ${formatHostUse(r.use)}: name it as well to take it from the host`;
    case 'no-iommu-group':
      return `${formatRef(r.device)} has no IOMMU group: VFIO cannot take it (is the IOMMU on? intel_iommu=on / amd_iommu=on)`;
    case 'bridge-requested':
      return `${formatRef(r.device)} is a bridge: vfio-pci never binds bridges; name the devices below it`;
  }
}

/** The groups and their members, as `plan` and `bind` show them. */
export function renderBindGroups(plan: Plan['bind'], namer: Namer, names: Map<string, NameKey>): string[] {
  const L: string[] = [];
  for (const g of plan.groups) {
    L.push(`  IOMMU group ${g.id} (for ${g.requestedBy.join(', ')})`);
    for (const m of g.members) {
      const change =
        m.action === 'bind'
          ? `${m.driver ?? 'no driver'} → vfio-pci`
          : m.action === 'keep'
            ? 'vfio-pci already'
            : `${m.driver ?? 'no driver'} (bridge, stays)`;
      const key = names.get(m.bdf);
      const title = key ? `  ${deviceTitle(namer, key)}` : '';
      const tags = [m.requested ? 'named' : 'group member', ...m.hostUse.map(formatHostUse)].join('; ');
      L.push(`    ${m.bdf}  ${change.padEnd(28)}${title}  [${tags}]`);
    }
  }
  return L;
}

function whatIfResetLine(r: WhatIfReset): string {
  const what = r.performed ? ACTION_TEXT[r.performed] : 'no reset';
  const hit = r.affected.length > 1 ? `; reset ${r.affected.map((a) => a.bdf).join(', ')}` : '';
  return r.ok
    ? `    ${r.bdf}  ${what} in ${ms(r.ms)}${hit}`
    : `    ${r.bdf}  failed after ${ms(r.ms)}: ${r.error?.message ?? 'no reset method worked'}`;
}

export function renderWhatIf(w: WhatIf): string[] {
  const L = [
    `What if (a simulated copy of ${w.origin}, ${w.mode} mode, virtual time on the bare-metal clock):`,
  ];
  const bound = w.bind.filter((b) => b.action === 'bind');
  const failedBind = bound.find((b) => !b.ok);
  L.push(
    failedBind
      ? `  bind: ${failedBind.bdf} failed: ${failedBind.error}`
      : `  bind: ${bound.length} function${bound.length === 1 ? '' : 's'} bound to vfio-pci`,
  );
  for (const o of w.opened)
    L.push(
      o.ok
        ? `  open ${o.bdf}: ${ms(o.ms)} (the kernel resets a device at first open), reset ${o.resetWorks ? 'works' : 'does not work'}`
        : `  open ${o.bdf} failed: ${o.error?.message}`,
    );
  if (w.deviceResets.length > 0) {
    L.push('  device reset (each alone, QEMU’s per-device policy):');
    for (const r of w.deviceResets) L.push(whatIfResetLine(r));
  }
  if (w.vmReset.length > 0) {
    L.push('  VM reset:');
    for (const r of w.vmReset) L.push(whatIfResetLine(r));
  }
  if (w.log.length > 0) {
    L.push('  kernel log');
    for (const e of w.log)
      L.push(
        `    [${(e.atMs / 1000).toFixed(6).padStart(12)}] ${e.device ? `pci ${e.device}: ` : ''}${e.text}`,
      );
  }
  L.push(`  total ${ms(w.totalMs)}`);
  return L;
}

function deviceLines(d: PlanDevice, namer: Namer, key: NameKey | undefined): string[] {
  const L = [
    `  ${d.bdf}  ${key ? deviceTitle(namer, key) : d.className}  (group ${d.group ?? 'none'}, driver ${d.driver ?? 'none'})`,
  ];
  const mark =
    d.verdict.kind === 'not-resettable' ? '✗' : d.verdict.kind === 'resettable-together' ? '~' : '✓';
  L.push(`    ${mark} ${formatVerdict(d.verdict, d)}`);
  const q = d.qemu;
  const act = (a: QemuAction | null) => (a ? ACTION_TEXT[a] : 'none');
  L.push(`    QEMU: reset of this device alone: ${act(q.deviceReset)}; at VM reset: ${act(q.vmReset)}`);
  const c = d.capabilities;
  L.push(
    `    from config space: FLR ${c.hasFlr ? 'yes' : 'no'}, PM reset ${c.hasPmReset ? 'yes' : 'no'}; kernel function reset ${c.resetWorks ? `works (${c.functionMethod})` : 'does not work'}`,
  );
  if (d.hotReset)
    L.push(
      `    hot reset: ${d.hotReset.kind} ${d.hotReset.target} below ${d.hotReset.bridge} resets ${d.hotReset.affected.map((a) => a.bdf).join(', ')}`,
    );
  for (const r of d.passedOver) L.push(`    - ${formatBlockReason(r)}`);
  if (d.predicted)
    L.push(
      `    predicted: ${ms(d.predicted.ms)} for the ${d.predicted.kind === 'hot' ? `${d.predicted.method ?? 'hot'} reset` : `${d.predicted.method ?? 'function'} reset`}${d.predicted.errno ? `, ending in ${d.predicted.errno}` : ''}`,
    );
  return L;
}

export function renderPlanText(
  plan: Plan,
  namer: Namer,
  keys: Map<string, NameKey>,
  whatIf: WhatIf | null,
): string {
  const era = plan.era === '2013' ? 'Linux 3.13 (2013)' : `Linux ${plan.era}`;
  const L = [
    `Plan: give ${plan.requested.join(', ')} to one VM · host ${plan.host} (${plan.origin}) · rules of ${era}`,
    '',
  ];
  L.push('Bind to vfio-pci (VFIO owns whole IOMMU groups, so every member goes):');
  if (plan.bind.groups.length === 0) L.push('  nothing');
  L.push(...renderBindGroups(plan.bind, namer, keys));
  for (const r of plan.bind.refusals) L.push(`  ✗ ${formatBindRefusal(r)}`);
  L.push('', 'Resets, by QEMU’s policy:');
  for (const d of plan.devices) L.push(...deviceLines(d, namer, keys.get(d.bdf)));
  L.push('');
  if (plan.collateral.length === 0) L.push('A hot reset of these devices hits nothing outside the set.');
  else {
    L.push('A hot reset would also hit, outside the set:');
    for (const c of plan.collateral)
      L.push(
        `  ${formatRef(c.device)} — by ${c.hitBy.join(', ')}; ${c.boundByPlan ? 'its group is bound to vfio-pci by this plan' : 'not in this plan: the hot reset is refused while it is in use'}`,
      );
  }
  if (plan.warnings.length > 0) {
    L.push('', 'Warnings:');
    for (const w of plan.warnings) L.push(`  ${SEVERITY_MARK[w.severity]} ${formatWarning(w)}`);
  }
  if (whatIf) L.push('', ...renderWhatIf(whatIf));
  else
    L.push(
      '',
      "Nothing was touched. 'vfio-reset plan --what-if …' runs this plan on a simulated copy of the host; 'vfio-reset bind …' binds the groups.",
    );
  return `${L.join('\n')}\n`;
}

export function planDocument(plan: Plan, whatIf: WhatIf | null) {
  return {
    schemaVersion: SCHEMA_VERSION,
    command: 'plan',
    ok: true,
    ...plan,
    bind: {
      ...plan.bind,
      refusals: plan.bind.refusals.map((r) => ({ ...r, message: formatBindRefusal(r) })),
    },
    devices: plan.devices.map((d) => ({ ...d, verdictMessage: formatVerdict(d.verdict, d) })),
    warnings: plan.warnings.map((w) => ({ ...w, message: formatWarning(w) })),
    whatIf,
  };
}
