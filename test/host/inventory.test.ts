import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Inventory, problemsOf, takeInventory } from '../../src/host/inventory.ts';
import { isDomainProblem, type Problem } from '../../src/host/problems.ts';
import { readSysfsHost, sysfsTopology } from '../../src/host/read-sysfs.ts';
import { isBridge } from '../../src/pci/model.ts';
import { hotResetScope } from '../../src/pci/reset-scope.ts';
import { SimHost } from '../../src/sim/host.ts';
import { projectSysfs } from '../../src/sim/sysfs.ts';
import { Vfs } from '../../src/sim/vfs.ts';
import { generateHost } from '../../src/topology/generate.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';

const inv = (example: string, era: '6.1' | '2013' = '6.1') =>
  takeInventory(projectSysfs(new SimHost(loadTopologyFile(`examples/${example}.yaml`), { era: era })), {
    era,
  });
const fn = (i: ReturnType<typeof inv>, bdf: string) => {
  const f = i.functions.find((x) => x.bdf === bdf);
  assert.ok(f, `${bdf} present`);
  return f;
};
const codes = (ps: Problem[]) => ps.map((p) => p.code);

// kernel-rig.md "Building blocks and what the kernel did with them", reproduced through sysfs.

test('rig RP (56): e1000e alone behind a root port lists "pm bus", is alone in its group, the port in another', () => {
  const i = inv('qemu-rp');
  const nic = fn(i, '0000:01:00.0');
  assert.deepEqual(nic.resetMethods, ['pm', 'bus']);
  assert.equal(nic.resetMethodsSource, 'sysfs');
  assert.deepEqual(
    i.groups.find((g) => g.id === nic.group)?.members.map((m) => m.bdf),
    ['0000:01:00.0'],
  );
  assert.notEqual(fn(i, '0000:00:02.0').group, nic.group);
  assert.equal(nic.hotReset?.kind, 'bus', 'acpiphp slot has no reset_slot, so bus scope (I2)');
  assert.deepEqual(
    nic.hotReset?.affected.map((a) => a.bdf),
    ['0000:01:00.0'],
  );
});

test('rig MF (57): two e1000e functions share one group; fn 0 "pm bus", fn 1 "pm" (M3)', () => {
  const i = inv('qemu-mf');
  const [f0, f1] = [fn(i, '0000:01:00.0'), fn(i, '0000:01:00.1')];
  assert.deepEqual(f0.resetMethods, ['pm', 'bus']);
  assert.deepEqual(f1.resetMethods, ['pm']);
  assert.equal(f0.group, f1.group);
  assert.deepEqual(
    f0.hotReset?.affected.map((a) => a.bdf),
    ['0000:01:00.0', '0000:01:00.1'],
  );
  assert.ok(codes(f0.problems).includes('stale-bus-method'), 'M4: bus listed while a sibling shares the bus');
  assert.equal(f0.functionReset.method, 'pm', 'pm is tried first and works');
});

test('rig SW (55): nvme lists "flr bus" and shares the xio3130 downstream port group; the upstream port is apart', () => {
  const i = inv('qemu-sw');
  const nvme = fn(i, '0000:03:00.0');
  assert.deepEqual(nvme.resetMethods, ['flr', 'bus']);
  assert.equal(nvme.group, fn(i, '0000:02:00.0').group);
  assert.notEqual(nvme.group, fn(i, '0000:01:00.0').group);
  assert.equal(nvme.hotReset?.affected.length, 1);
});

test('rig PPB (54, §9.3): bridge and both e1000 in one group; first NIC "bus", second none; INFO order 0x08 then 0x09', () => {
  const i = inv('qemu-ppb');
  const [a, b] = [fn(i, '0000:02:01.0'), fn(i, '0000:02:01.1')];
  assert.deepEqual(a.resetMethods, ['bus']);
  assert.deepEqual(b.resetMethods, []);
  assert.equal(a.group, fn(i, '0000:01:00.0').group);
  assert.equal(b.group, a.group);
  assert.deepEqual(
    a.hotReset?.affected.map((x) => x.bdf),
    ['0000:02:01.0', '0000:02:01.1'],
  );
  assert.deepEqual(a.hotReset?.groups, [a.group]);
  assert.equal(a.functionReset.ok, false, 'M4: the stale bus method fails with ENOTTY now');
  assert.equal(a.functionReset.errno, 'ENOTTY');
  assert.ok(codes(b.problems).includes('no-function-reset'));
});

test('rig ROOT (23): a device on the root bus has no hot reset (ENODEV)', () => {
  const f = fn(inv('qemu-root'), '0000:00:02.0');
  assert.equal(f.hotReset, null);
  const p = f.problems.find((x) => x.code === 'no-hot-reset');
  assert.ok(p && p.code === 'no-hot-reset' && p.reason.code === 'root-bus');
});

test('RPN: native pciehp gives a slot scope (P3 prefers the slot)', () => {
  const f = fn(inv('qemu-rpn'), '0000:01:00.0');
  assert.equal(f.hotReset?.kind, 'slot');
  assert.equal(f.slot?.driver, 'pciehp');
});

test('H6: a host-driver function in scope is a blocker naming it with driver and group; bindToVfio lists it', () => {
  const i = inv('workstation');
  const gpu = fn(i, '0000:01:00.0');
  const p = problemsOf(gpu).find((x) => x.code === 'scope-not-vfio');
  assert.ok(p && p.code === 'scope-not-vfio');
  assert.equal(p.blocker.bdf, '0000:01:00.1');
  assert.equal(p.blocker.driver, 'snd_hda_intel');
  assert.equal(p.blocker.group, gpu.group);
  assert.deepEqual(
    gpu.hotReset?.bindToVfio.map((r) => r.bdf),
    ['0000:01:00.0', '0000:01:00.1'],
  );
  assert.ok(
    !problemsOf(gpu).some((x) => 'blocker' in x && x.blocker.bdf === gpu.bdf),
    'a function never blocks itself',
  );
});

test('reset domains: the workstation has its three pciehp slots and two buses, each once, named by id', () => {
  const i = inv('workstation');
  assert.deepEqual(
    i.domains.map((d) => [d.id, d.bridge]),
    [
      ['slot:0000:01:1', '0000:00:01.0'],
      ['slot:0000:04:10', '0000:03:00.0'],
      ['slot:0000:05:11', '0000:03:01.0'],
      ['bus:0000:08', '0000:00:1c.0'],
      ['bus:0000:0a', '0000:09:00.0'],
    ],
  );
  const slot = i.domains[0]!;
  // H6 from the slot's side: the GPU and its audio function are both on host drivers.
  assert.deepEqual(
    slot.problems.map((p) => (p.code === 'scope-not-vfio' ? p.blocker.bdf : p.code)),
    ['0000:01:00.0', '0000:01:00.1'],
  );
  assert.equal(fn(i, '0000:01:00.1').hotReset, slot, 'the functions of a domain share it');
});

/**
 * I2/I3, H6 and S0 as invariants of the inventory: every function that can be hot reset shares the
 * domain object of its slot or bus, listed once on the host, whose affected functions are its kernel
 * scope. The domain's problems are what the rules say of that scope — a scope-has-bridge per bridge
 * (S0), a scope-not-vfio per function off vfio-pci (H6, not in 2013), scope-crosses-groups past one
 * group — and a function's own problems hold none of them; its whole list (`problemsOf`) never has
 * it block itself. No domain is listed that no function's reset reaches.
 */
interface KernelScope {
  functions: { bdf: string; bridge: boolean; driver: string | null }[];
  /** PH1: a bus scope below a hotplug-capable port whose slot driver is not pciehp. */
  plainSbrBelowHotplug: boolean;
}

function checkDomains(
  i: Inventory,
  era: '6.1' | '2013',
  scopeOf: (bdf: string) => KernelScope,
): string | null {
  const byId = new Map(i.domains.map((d) => [d.id, d]));
  if (byId.size !== i.domains.length) return 'a domain id repeats';
  const reached = new Set<string>();
  for (const f of i.functions) {
    if (f.problems.some(isDomainProblem)) return `${f.bdf} carries a domain problem as its own`;
    if (!f.hotReset) continue;
    const d = byId.get(f.hotReset.id);
    if (d !== f.hotReset) return `${f.bdf}'s domain ${f.hotReset.id} is not the one listed`;
    reached.add(d.id);
    const scope = scopeOf(f.bdf);
    if (d.affected.map((a) => a.bdf).join() !== scope.functions.map((g) => g.bdf).join())
      return `${d.id} is not ${f.bdf}'s kernel scope`;
    const expected = [
      ...scope.functions.flatMap((g) =>
        g.bridge
          ? [`scope-has-bridge ${g.bdf}`]
          : era !== '2013' && g.driver !== 'vfio-pci'
            ? [`scope-not-vfio ${g.bdf}`]
            : [],
      ),
      ...(d.groups.length > 1 ? ['scope-crosses-groups'] : []),
      ...(scope.plainSbrBelowHotplug ? ['hotplug-port-plain-sbr'] : []),
    ];
    const got = d.problems.map((p) => ('blocker' in p ? `${p.code} ${p.blocker.bdf}` : p.code));
    if (got.join() !== expected.join())
      return `${d.id}: ${got.join()} where the rules say ${expected.join()}`;
    if (problemsOf(f).some((p) => p.code === 'scope-not-vfio' && p.blocker.bdf === f.bdf))
      return `${f.bdf} blocks itself`;
  }
  if (reached.size !== byId.size) return "a listed domain is no function's";
  return null;
}

test('property: on random hosts, functions and their reset domains agree (I2/I3, H6)', () => {
  fc.assert(
    fc.property(fc.integer(), fc.constantFrom('6.1' as const, '2013' as const), (seed, era) => {
      const sys = projectSysfs(new SimHost(generateHost(seed, { maxFunctions: 24 }), { era }));
      const i = takeInventory(sys, { era });
      // The tree as sysfs shows it (quirks a description adds beyond the kernel's tables are not there).
      const topo = sysfsTopology(readSysfsHost(sys, sys.origin, { config: 'needed' }), sys.origin);
      const scopeOf = (bdf: string): KernelScope => {
        const s = hotResetScope(topo.get(bdf)!, era);
        if (s.kind === 'none') return { functions: [], plainSbrBelowHotplug: false };
        const slot = s.kind === 'bus' ? s.bus.slots[0] : undefined;
        return {
          functions: s.functions.map((g) => ({
            bdf: g.name,
            bridge: isBridge(g.desc),
            driver: g.desc.driver,
          })),
          plainSbrBelowHotplug:
            s.bridge.desc.pcie?.slot?.hotplugCapable === true &&
            slot !== undefined &&
            slot.desc.driver !== 'pciehp',
        };
      };
      const bad = checkDomains(i, era, scopeOf);
      assert.equal(bad, null, `seed ${seed} (${era}): ${bad}`);
    }),
    { numRuns: 150 },
  );
});

test('G3: a group shared with a DMA-using host driver is not viable; the blocker is named', () => {
  const i = inv('workstation');
  const audio = fn(i, '0000:00:1f.3');
  const smbus = fn(i, '0000:00:1f.4');
  const p = smbus.problems.find((x) => x.code === 'group-not-viable');
  assert.ok(p && p.code === 'group-not-viable');
  assert.equal(p.group, audio.group);
  assert.notEqual(p.blocker.bdf, smbus.bdf);
});

test('era 2013: host drivers in scope are not H6 blockers (ownership by group only)', () => {
  const gpu = fn(inv('workstation', '2013'), '0000:01:00.0');
  assert.ok(!codes(problemsOf(gpu)).includes('scope-not-vfio'));
  assert.deepEqual(gpu.hotReset?.bindToVfio, []);
});

/** A minimal sysfs tree of the kind this machine has: no IOMMU, no reset_method, 64-byte config. */
function unprivilegedHost(): Vfs {
  const v = new Vfs('fixture');
  const dev = 'devices/pci0000:00/0000:00:03.0';
  v.file(`${dev}/vendor`, '0x1af4\n');
  v.file(`${dev}/device`, '0x1000\n');
  v.file(`${dev}/class`, '0x020000\n');
  const cfg = new Uint8Array(64);
  cfg.set([0xf4, 0x1a, 0x00, 0x10]);
  v.file(`${dev}/config`, cfg);
  v.symlink('bus/pci/devices/0000:00:03.0', '../../../devices/pci0000:00/0000:00:03.0');
  return v;
}

test('a host with no IOMMU, no reset_method and 64-byte config is a normal case: groups none, methods unknown', () => {
  const i = takeInventory(unprivilegedHost());
  assert.equal(i.iommu, false);
  const f = fn(i, '0000:00:03.0');
  assert.equal(f.group, null);
  assert.equal(f.resetMethodsSource, 'unknown');
  assert.deepEqual(codes(f.problems).sort(), [
    'no-hot-reset',
    'no-iommu-group',
    'partial-config',
    'root-bus-device',
  ]);
});

test('without reset_method attributes anywhere, methods are computed from full config space', () => {
  const h = new SimHost(loadTopologyFile('examples/qemu-rp.yaml'));
  const v = projectSysfs(h);
  for (const st of h.allStates()) {
    v.remove(`bus/pci/devices/${st.fn.name}/reset_method`);
  }
  const f = fn(takeInventory(v), '0000:01:00.0');
  assert.equal(f.resetMethodsSource, 'computed');
  assert.deepEqual(f.resetMethods, ['pm', 'bus']);
});

test('PH1 via the function reset: a multifunction-bit GPU below a pciehp port whose only method is `bus` is warned about', () => {
  const inv = takeInventory(
    projectSysfs(new SimHost(loadTopologyFile('test/serve/fixtures/pciehp-plain-sbr.yaml'))),
  );
  const gpu = inv.functions.find((f) => f.bdf === '0000:01:00.0')!;
  const p = gpu.problems.find((x) => x.code === 'bus-method-below-pciehp');
  assert.ok(p, JSON.stringify(gpu.problems));
  assert.deepEqual(
    { severity: p.severity, port: p.code === 'bus-method-below-pciehp' ? p.port.bdf : null },
    { severity: 'warning', port: '0000:00:02.0' },
  );
  // The same port's slot path is taken by a function without the multifunction bit: no warning.
  const others = inv.functions.filter((f) => f.bdf !== '0000:01:00.0');
  assert.ok(others.every((f) => !f.problems.some((x) => x.code === 'bus-method-below-pciehp')));
  // …nor on the workstation, whose pciehp slots hold single-function NVMe drives.
  const ws = takeInventory(projectSysfs(new SimHost(loadTopologyFile('examples/workstation.yaml'))));
  assert.ok(ws.functions.every((f) => !f.problems.some((x) => x.code === 'bus-method-below-pciehp')));
});
