/**
 * Where a bad-input case starts: a topology (a bundled QEMU twin, so the same case runs in the rig)
 * and a state reached with ordinary scenario steps. Handles every case may use:
 * `c` container, `g` group of the topology's device, `d` its device fd (group path), `n` /dev/null,
 * `x` a closed fd, `i` an iommufd, `u` a cdev fd (bound after `bound`), `a` an IOAS id, `kv` /dev/kvm,
 * `vm` a VM fd, `kd` its KVM-VFIO device fd; on ppb also `d2` (02:01.1) and on m2g `g2` / `d2`.
 */
import type { Step } from '../../../src/scenario/schema.ts';

export const TOPOLOGIES = {
  rp: { file: 'examples/qemu-rp.yaml', bdf: '0000:01:00.0', other: null },
  ppb: { file: 'examples/qemu-ppb.yaml', bdf: '0000:02:01.0', other: '0000:02:01.1' },
  root: { file: 'examples/qemu-root.yaml', bdf: '0000:00:02.0', other: null },
  m2g: { file: 'examples/m2g.yaml', bdf: '0000:01:00.0', other: '0000:01:00.1' },
} as const;
export type TopologyName = keyof typeof TOPOLOGIES;

/** One state ingredient; a case lists several, applied in order. */
export type SetupToken =
  | 'container'
  | 'group'
  | 'attached'
  | 'iommu'
  | 'device'
  | 'other-device'
  | 'other-group'
  | 'null'
  | 'closed'
  | 'iommufd'
  | 'cdev'
  | 'bound'
  | 'ioas'
  | 'kvm';

/** Handles each token defines (so a rig block can close what its setup opened). */
const OPENS: Record<SetupToken, string[]> = {
  container: ['c'],
  group: ['g'],
  attached: [],
  iommu: [],
  device: ['d'],
  'other-device': ['d2'],
  'other-group': ['g2'],
  null: ['n'],
  closed: [],
  iommufd: ['i'],
  cdev: ['u'],
  bound: [],
  ioas: [],
  kvm: ['kd', 'vm', 'kv'],
};

/** What each token needs before it. */
const NEEDS: Partial<Record<SetupToken, SetupToken[]>> = {
  group: ['container'],
  attached: ['group'],
  iommu: ['attached'],
  device: ['iommu'],
  'other-device': ['iommu'],
  cdev: ['iommufd'],
  bound: ['cdev'],
  ioas: ['bound'],
};

/** The tokens with everything they need, in dependency order, without repeats. */
export function expand(tokens: readonly SetupToken[]): SetupToken[] {
  const out: SetupToken[] = [];
  const add = (t: SetupToken) => {
    if (out.includes(t)) return;
    for (const n of NEEDS[t] ?? []) add(n);
    out.push(t);
  };
  for (const t of tokens) add(t);
  return out;
}

/** The scenario steps that reach the state `tokens` name on topology `topo`. */
export function setupSteps(topo: TopologyName, tokens: readonly SetupToken[]): Step[] {
  const t = TOPOLOGIES[topo];
  const other = t.other ?? t.bdf;
  const steps: Step[] = [];
  for (const token of expand(tokens)) {
    switch (token) {
      case 'container':
        steps.push({ open: '/dev/vfio/vfio', as: 'c' });
        break;
      case 'group':
        steps.push({ 'open-group': t.bdf, as: 'g' });
        break;
      case 'attached':
        steps.push({ 'set-container': { group: 'g', container: 'c' } });
        break;
      case 'iommu':
        steps.push({ 'set-iommu': { container: 'c', type: 1 } });
        break;
      case 'device':
        steps.push({ 'get-device': { group: 'g', device: t.bdf, as: 'd' } });
        break;
      case 'other-device':
        steps.push({ 'get-device': { group: 'g', device: other, as: 'd2' } });
        break;
      case 'other-group':
        steps.push({ 'open-group': other, as: 'g2' });
        break;
      case 'null':
        steps.push({ open: '/dev/null', as: 'n' });
        break;
      case 'closed':
        steps.push({ open: '/dev/null', as: 'x' }, { close: 'x' });
        break;
      case 'iommufd':
        steps.push({ open: '/dev/iommu', as: 'i' });
        break;
      case 'cdev':
        steps.push({ 'open-cdev': t.bdf, as: 'u' });
        break;
      case 'bound':
        steps.push({ 'bind-iommufd': { device: 'u', iommufd: 'i' } });
        break;
      case 'ioas':
        steps.push({ 'ioas-alloc': { iommufd: 'i', as: 'a' } });
        break;
      case 'kvm':
        steps.push(
          { open: '/dev/kvm', as: 'kv' },
          { 'kvm-create-vm': 'kv', as: 'vm' },
          { 'kvm-create-device': { vm: 'vm', as: 'kd' } },
        );
        break;
    }
  }
  return steps;
}

/** The handles the setup leaves open, device fds first (they pin their group, G6), for teardown. */
export function openedHandles(tokens: readonly SetupToken[]): string[] {
  const all = expand(tokens).flatMap((t) => OPENS[t]);
  const order = ['d', 'd2', 'u', 'kd', 'vm', 'kv', 'g', 'g2', 'c', 'n', 'i'];
  return order.filter((h) => all.includes(h));
}
