/**
 * The bad-input matrix (bad-input/cases.ts) on the simulated kernel, in every era each case names:
 * the errno the kernel gives, the rule the simulator names for it, and — for every refusal — no
 * change at all to kernel state (VFIO objects, fds, device resets), except where the rule says the
 * kernel ran the reset and reports how it ended (H9.*, D3.*).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CASES, caseId } from './bad-input/cases.ts';
import { kernelFunction } from './bad-input/kernel.ts';
import { rigFiles } from './bad-input/rig-file.ts';
import { runCase } from './bad-input/run.ts';
import { figures } from './figures.ts';

const fig = figures('bad-input');
const PASS_RULE = /^(D3|D3_2013|H9|Y4)\./;

test('the matrix has at least 200 cases, each named once, each with a kernel function', () => {
  const ids = CASES.map(caseId);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dup, [], 'case names are unique');
  assert.ok(CASES.length >= 200, `${CASES.length} cases`);
  for (const c of CASES) {
    assert.ok(c.step || c.call, `${caseId(c)}: a step or a call`);
    assert.ok(!(c.rig && !c.step), `${caseId(c)}: a rig case is a scenario step`);
    assert.ok(!(c.rig && !c.eras.includes('6.1')), `${caseId(c)}: a rig case runs on 6.1`);
    assert.ok(!(c.prepare && !c.call), `${caseId(c)}: prepare goes with call`);
    assert.notEqual(kernelFunction(c.rule, c.ioctl), '(unmapped rule)', `${caseId(c)}: kernel function`);
  }
  fig.set('cases', CASES.length);
  fig.set('rigCases', CASES.filter((c) => c.rig).length);
  fig.set('ioctls', new Set(CASES.map((c) => c.ioctl)).size);
  fig.set(
    'rules',
    new Set(CASES.flatMap((c) => [c.rule, ...Object.values(c.byEra ?? {}).map((o) => o.rule)])).size,
  );
});

test('every request the simulator answers is in the matrix', () => {
  const named = new Set(CASES.map((c) => c.ioctl));
  const answered = [
    'VFIO_GET_API_VERSION',
    'VFIO_CHECK_EXTENSION',
    'VFIO_SET_IOMMU',
    'VFIO_IOMMU_MAP_DMA',
    'VFIO_IOMMU_UNMAP_DMA',
    'VFIO_GROUP_GET_STATUS',
    'VFIO_GROUP_SET_CONTAINER',
    'VFIO_GROUP_UNSET_CONTAINER',
    'VFIO_GROUP_GET_DEVICE_FD',
    'VFIO_DEVICE_GET_INFO',
    'VFIO_DEVICE_RESET',
    'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO',
    'VFIO_DEVICE_PCI_HOT_RESET',
    'VFIO_DEVICE_GET_REGION_INFO',
    'VFIO_DEVICE_GET_IRQ_INFO',
    'VFIO_DEVICE_SET_IRQS',
    'VFIO_DEVICE_BIND_IOMMUFD',
    'VFIO_DEVICE_ATTACH_IOMMUFD_PT',
    'VFIO_DEVICE_DETACH_IOMMUFD_PT',
    'IOMMU_DESTROY',
    'IOMMU_IOAS_ALLOC',
    'KVM_GET_API_VERSION',
    'KVM_CREATE_VM',
    'KVM_CREATE_DEVICE',
    'KVM_SET_DEVICE_ATTR',
    'KVM_GET_DEVICE_ATTR',
    'KVM_HAS_DEVICE_ATTR',
    'open',
    'close',
  ];
  assert.deepEqual(
    answered.filter((r) => !named.has(r)),
    [],
  );
});

test('the rig cases are in scenarios/conformance as generated (npm run docs:reliability rewrites them)', () => {
  for (const f of rigFiles()) {
    let committed = '';
    try {
      committed = readFileSync(f.path, 'utf8');
    } catch {}
    assert.equal(committed, f.text, `${f.path} is stale: run npm run docs:reliability`);
    fig.add('rigFiles');
  }
});

for (const c of CASES) {
  for (const era of c.eras) {
    test(`[${era}] ${caseId(c)}`, () => {
      const r = runCase(c, era);
      assert.equal(r.setupError, null, `setup failed: ${r.setupError}`);
      const got = `${r.errno ?? 'ok'}${r.rule ? ` [${r.rule}]` : ''} ${JSON.stringify(r.value)}`;
      assert.ok(r.met, `expected ${JSON.stringify(r.want.expect)}, got ${got}`);
      assert.equal(r.rule, r.want.rule, `rule: expected ${r.want.rule}, got ${got}`);
      if (r.errno !== null && !PASS_RULE.test(r.rule ?? '')) {
        assert.equal(r.changed, false, 'a refused call changed kernel state');
        fig.add('refusalsUnchanged');
      }
      fig.add('runs');
      fig.add(r.errno === null ? 'successes' : 'refusals');
    });
  }
}
