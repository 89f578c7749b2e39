/**
 * The rig's pure parts that decide what QEMU runs: topology data → argv and kernel command line.
 * No QEMU here (the real boots are `npm run test:kernel`).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatBdf, parseBdf } from '../../src/pci/bdf.ts';
import { type BootPaths, kernelCmdline, MACHINE_ARGS, qemuArgv, SHARE_SLOTS } from '../../src/rig/qemu.ts';
import { TOPOLOGIES, topologyByName } from '../../src/rig/topologies.ts';

const REPO = join(import.meta.dirname, '../..');
const PATHS: BootPaths = {
  kernel: '/boot/vmlinuz-6.1.0-56-amd64',
  initrd: '/r/.rig/initramfs.cpio.gz',
  outDir: '/r/.rig/results/rp',
  repo: '/r',
  entry: '.rig/guest.mjs',
  node: '/usr/bin/node',
};

/** Values of every `flag` in argv. */
function values(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag && i + 1 < argv.length ? [argv[i + 1]!] : []));
}

describe('qemuArgv', () => {
  const rp = topologyByName('rp')!;
  const argv = qemuArgv(rp, PATHS);

  it('starts with the measured machine: TCG, q35 split irqchip, VT-d with caching mode, no defaults', () => {
    assert.deepEqual(argv.slice(0, MACHINE_ARGS.length), [...MACHINE_ARGS]);
    assert.deepEqual(values(argv, '-accel'), ['tcg,thread=multi']);
    assert.ok(values(argv, '-device').includes('intel-iommu,intremap=on,caching-mode=on'));
    for (const f of ['-nodefaults', '-nographic', '-no-reboot']) assert.ok(argv.includes(f), f);
  });

  it('boots the given kernel and initramfs with the rig parameters', () => {
    assert.deepEqual(values(argv, '-kernel'), [PATHS.kernel]);
    assert.deepEqual(values(argv, '-initrd'), [PATHS.initrd]);
    const [append] = values(argv, '-append');
    assert.match(append!, /console=ttyS0 intel_iommu=on iommu=pt quiet panic=-1/);
    assert.match(append!, / rig\.repo=\/r rig\.entry=\.rig\/guest\.mjs rig\.node=\/usr\/bin\/node$/);
  });

  it('shares the host root read-only and only the results directory writable, at fixed slots', () => {
    const fs = values(argv, '-fsdev');
    assert.deepEqual(fs, [
      'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
      'local,id=rigout,path=/r/.rig/results/rp,security_model=none',
    ]);
    const shares = values(argv, '-device').filter((d) => d.startsWith('virtio-9p-pci'));
    assert.deepEqual(shares, [
      `virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot,bus=pcie.0,addr=${SHARE_SLOTS.hostroot}`,
      `virtio-9p-pci,fsdev=rigout,mount_tag=rigout,bus=pcie.0,addr=${SHARE_SLOTS.rigout}`,
    ]);
  });

  it('ends with the topology arguments, unchanged', () => {
    assert.deepEqual(argv.slice(-rp.args.length), [...rp.args]);
  });

  it('escapes commas in the results path (QEMU option syntax)', () => {
    const a = qemuArgv(rp, { ...PATHS, outDir: '/tmp/a,b' });
    assert.ok(values(a, '-fsdev').includes('local,id=rigout,path=/tmp/a,,b,security_model=none'));
  });

  it('puts the modules a topology needs on the command line, and refuses words that would split', () => {
    assert.match(kernelCmdline(topologyByName('ppb')!, PATHS), / rig\.modules=e1000,pci-stub$/);
    assert.doesNotMatch(kernelCmdline(rp, PATHS), /rig\.modules/);
    assert.throws(() => kernelCmdline(rp, { ...PATHS, repo: '/my repo' }), /kernel command line/);
  });
});

describe('TOPOLOGIES', () => {
  const initramfs = readFileSync(join(REPO, 'rig/build-initramfs.sh'), 'utf8');
  const extra = /^EXTRA_MODULES=\(([^)]*)\)/m.exec(initramfs)?.[1]?.split(/\s+/).filter(Boolean) ?? [];

  it('covers the building blocks: at least 8 topologies with unique names', () => {
    assert.ok(TOPOLOGIES.length >= 8);
    assert.equal(new Set(TOPOLOGIES.map((t) => t.name)).size, TOPOLOGIES.length);
    for (const n of ['rp', 'rpn', 'rp25', 'mf', 'sw', 'ppb', 'ppb-host', 'root', 'sw3', 'sriov'])
      assert.ok(topologyByName(n), n);
  });

  for (const t of TOPOLOGIES) {
    describe(t.name, () => {
      const devices = values(t.args, '-device');
      const netdevs = values(t.args, '-netdev');

      it('pairs every NIC with its own restricted user netdev and skips option ROMs', () => {
        const ids = netdevs.map((n) => /id=([^,]+)/.exec(n)?.[1]);
        assert.equal(new Set(ids).size, ids.length);
        for (const n of netdevs) assert.match(n, /^user,id=[^,]+,restrict=on$/);
        const used = devices.flatMap((d) => /netdev=([^,]+)/.exec(d)?.[1] ?? []);
        assert.deepEqual([...used].sort(), [...ids].sort());
        for (const d of devices.filter((x) => /netdev=/.test(x))) assert.match(d, /romfile=(,|$)/);
      });

      it('keeps the rig share slots free', () => {
        for (const d of devices.filter((x) => /bus=pcie\.0\b/.test(x)))
          for (const slot of Object.values(SHARE_SLOTS))
            assert.doesNotMatch(d, new RegExp(`addr=${slot}\\b`));
      });

      it('names functions as full BDFs, each once, and only host drivers the initramfs carries', () => {
        const all = [...t.vfio, ...t.host.map((h) => h.bdf)];
        for (const b of all) assert.equal(formatBdf(parseBdf(b)), b);
        assert.equal(new Set(all).size, all.length);
        for (const m of t.modules) assert.ok(extra.includes(m), `${m} is not in EXTRA_MODULES`);
        for (const h of t.host) assert.ok(t.modules.includes(h.driver), `${h.driver} module not loaded`);
      });

      it('points at files that exist', () => {
        if (t.example) assert.ok(existsSync(join(REPO, t.example)), t.example);
        for (const s of t.scenarios) assert.ok(existsSync(join(REPO, s)), s);
        assert.ok(t.example !== null || t.scenarios.length > 0, 'no scenario would run');
      });
    });
  }
});
