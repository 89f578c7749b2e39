/**
 * The real backend (src/linux/) on fixture sysfs trees, watched through node:fs: it refuses to act
 * without the IOMMU, on a device that is not where (or what) the user said, and on a group — or a
 * bus — holding a device the host uses; it never writes outside the sysfs attribute it names (not
 * through `..`, a symlinked attribute or a directory that resolves elsewhere); and the read-only
 * commands open nothing under /dev, write nothing but their -o output, load no FFI, and run as an
 * unprivileged user.
 *
 * Nothing here touches a real device: the fixtures are sysfs dumps of simulated hosts in a temp
 * directory, and the one look at the real /sys only reads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { writeSysfsDump } from '../../src/host/dump.ts';
import { KernelError } from '../../src/kernel/syscalls.ts';
import { LinuxSyscalls } from '../../src/linux/syscalls.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { runCli } from '../helpers/cli.ts';
import { figures } from './figures.ts';
import { changes, type FsCall, spyFs } from './linux/fs-spy.ts';

const fig = figures('linux-backend');
const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'vfio-reset-linux-')));
chmodSync(tmp, 0o755); // the unprivileged runs below read the fixtures too
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The major:minor of the real root file system, as /proc/self/mountinfo shows it (the CLI reads the real /proc). */
function rootDev(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] === '/') return f[2]!;
  }
  throw new Error('no / in /proc/self/mountinfo');
}

let fixtures = 0;

/**
 * An example as a sysfs tree (default the workstation: 01:00.0 (nvidia) and 01:00.1 share group 9;
 * 08:00.0 and 08:00.1 (tg3) share group 17; 05:00.0 (vfio-pci) is alone). Options mark what the
 * host uses.
 */
function fixture(
  opts: { iommu?: boolean; bootVga?: string; rootDiskOn?: string; example?: string } = {},
): string {
  const sys = join(tmp, `sys${fixtures++}`);
  const k = new SimKernel(loadTopologyFile(`examples/${opts.example ?? 'workstation'}.yaml`), { era: '6.1' });
  writeSysfsDump(k.sysfs, sys);
  mkdirSync(join(sys, 'block'), { recursive: true });
  if (opts.iommu === false) rmSync(join(sys, 'kernel'), { recursive: true, force: true });
  const devDir = (bdf: string) => realpathSync(join(sys, 'bus/pci/devices', bdf));
  if (opts.bootVga) writeFileSync(join(devDir(opts.bootVga), 'boot_vga'), '1\n');
  if (opts.rootDiskOn) {
    // A SCSI disk below the controller, holding the real root file system (by major:minor).
    const parent = join(devDir(opts.rootDiskOn), 'host0/target0:0:0/0:0:0:0');
    const disk = join(parent, 'block/sdz');
    mkdirSync(disk, { recursive: true });
    writeFileSync(join(disk, 'dev'), `${rootDev()}\n`);
    symlinkSync(relative(disk, parent), join(disk, 'device'));
    symlinkSync(relative(join(sys, 'block'), disk), join(sys, 'block/sdz'));
  }
  return sys;
}

/** Runs `f` watching node:fs and whether koffi gets loaded. */
async function watched<T>(f: () => T | Promise<T>): Promise<{ value: T; calls: FsCall[]; koffi: boolean }> {
  const spy = spyFs();
  let value: T;
  try {
    value = await f();
  } finally {
    spy.restore();
  }
  const require = createRequire(import.meta.url);
  const koffi = Object.keys(require.cache).some((p) => p.includes('/koffi/'));
  fig.add('fsCallsWatched', spy.calls.length);
  return { value, calls: spy.calls, koffi };
}

/** Nothing under /dev was opened and nothing was changed outside `allowed` (paths or prefixes). */
function assertQuiet(w: { calls: FsCall[]; koffi: boolean }, allowed: string[] = []): void {
  const dev = w.calls.filter((c) => c.fn === 'openSync' && c.path.startsWith('/dev/'));
  assert.deepEqual(dev, [], 'opened a device node');
  const changed = changes(w.calls).filter(
    (c) => !allowed.some((a) => c.path === a || c.path.startsWith(`${a}/`)),
  );
  assert.deepEqual(changed, [], 'changed the file system');
  assert.equal(w.koffi, false, 'loaded the ioctl FFI');
  fig.add('checks', 3);
}

describe('reset --yes on a real (fixture) host refuses, before opening anything', () => {
  test('without the IOMMU: refused, naming the device with its driver and "no group"', async () => {
    const sys = fixture({ iommu: false });
    const w = await watched(() =>
      runCli('--host', `linux:${sys}`, 'reset', '0000:05:00.0', '--method', 'hot', '--yes'),
    );
    assert.equal(w.value.code, 1);
    assert.match(
      w.value.stderr,
      /no IOMMU groups on this host: enable the IOMMU \(intel_iommu=on or amd_iommu=on\) before using VFIO on 0000:05:00\.0/,
    );
    assertQuiet(w);
    fig.add('refusals');
  });

  test('a device that is not where the user said: absent, or another device at that address (--expect)', async () => {
    const sys = fixture();
    const absent = await watched(() => runCli('--host', `linux:${sys}`, 'reset', '0000:42:00.0', '--yes'));
    assert.equal(absent.value.code, 1);
    assert.match(absent.value.stderr, /0000:42:00\.0 is not on host/);
    assertQuiet(absent);
    const other = await watched(() =>
      runCli('--host', `linux:${sys}`, '--json', 'reset', '0000:05:00.0', '--expect', '144d:a80a', '--yes'),
    );
    assert.equal(other.value.code, 1);
    const doc = JSON.parse(other.value.stdout);
    assert.equal(doc.error.code, 'VFIO_RESET_E_UNSAFE');
    assert.match(doc.error.message, /0000:05:00\.0 is 1c5c:174a, not the 144d:a80a you named/);
    assertQuiet(other);
    fig.add('refusals', 2);
  });

  test('a group holding the boot GPU: the reset of its audio function is refused, naming the GPU by BDF, driver and group', async () => {
    const sys = fixture({ bootVga: '0000:01:00.0' });
    const w = await watched(() =>
      runCli('--host', `linux:${sys}`, 'reset', '0000:01:00.1', '--method', 'function', '--yes'),
    );
    assert.equal(w.value.code, 1);
    assert.match(
      w.value.stderr,
      /0000:01:00\.0 \(driver nvidia, IOMMU group 9\) is the boot\/console GPU, in the IOMMU group of 0000:01:00\.1/,
    );
    assertQuiet(w);
    fig.add('refusals');
  });

  test('a group holding the disk with the mounted root: refused, naming the controller and the mount', async () => {
    const sys = fixture({ rootDiskOn: '0000:08:00.1' });
    const w = await watched(() => runCli('--host', `linux:${sys}`, 'reset', '0000:08:00.0', '--yes'));
    assert.equal(w.value.code, 1);
    assert.match(
      w.value.stderr,
      /0000:08:00\.1 \(driver tg3, IOMMU group 17\) holds disk sdz, in use \(.* on \/\), in the IOMMU group of 0000:08:00\.0/,
    );
    assertQuiet(w);
    // bind --yes refuses the same group (it would take the disk's controller from the host).
    const bind = await watched(() =>
      runCli('--host', `linux:${sys}`, 'bind', '0000:08:00.0', '--yes', '--record', join(tmp, 'never.json')),
    );
    assert.equal(bind.value.code, 1);
    assertQuiet(bind);
    fig.add('refusals', 2);
  });

  test('a device below the same bridge, in another group, that a bus reset would hit: refused, naming it', async () => {
    // M-2G: 01:00.0 and 01:00.1 are in two IOMMU groups on one bus; a bus reset of either hits both.
    const sys = fixture({ example: 'm2g', rootDiskOn: '0000:01:00.1' });
    const w = await watched(() =>
      runCli('--host', `linux:${sys}`, 'reset', '0000:01:00.0', '--method', 'hot', '--yes'),
    );
    assert.equal(w.value.code, 1);
    assert.match(
      w.value.stderr,
      /0000:01:00\.1 \(driver vfio-pci, IOMMU group \d+\) holds disk sdz, .*below the same bridge as 0000:01:00\.0 \(a bus reset resets it too\)/,
    );
    assertQuiet(w);
    fig.add('refusals');
  });
});

describe('LinuxSyscalls.writeSysfs writes the attribute it names and nothing else', () => {
  const sys = fixture();
  const sc = new LinuxSyscalls({ sysfsRoot: sys });
  const attr = 'bus/pci/devices/0000:05:00.0/driver_override';
  const real = realpathSync(join(sys, attr));

  test('one write-open of the attribute, without O_CREAT, following the device link inside the root', async () => {
    for (const path of [attr, `/${attr}`, `/sys/${attr}`]) {
      const w = await watched(() => sc.writeSysfs(path, 'vfio-pci'));
      const writes = changes(w.calls);
      assert.deepEqual(
        writes.map((c) => c.path),
        [real],
        `${path}: writes`,
      );
      assert.equal((Number(writes[0]!.flags) & 0o100) === 0, true, 'O_CREAT');
      assert.equal(readFileSync(real, 'utf8'), 'vfio-pci');
      fig.add('writesChecked');
    }
  });

  test('.. cannot leave the root; a missing attribute is ENOENT and creates nothing', async () => {
    for (const path of ['../../../../etc/passwd-vfio-reset', 'bus/pci/devices/0000:05:00.0/no_such_attr']) {
      const w = await watched(() =>
        assert.throws(
          () => sc.writeSysfs(path, 'x'),
          (e) => e instanceof KernelError,
        ),
      );
      assert.ok(
        changes(w.calls).every((c) => c.path.startsWith(`${sys}/`)),
        `${path}: ${JSON.stringify(changes(w.calls))}`,
      );
    }
    assert.throws(() => readFileSync('/etc/passwd-vfio-reset'));
    fig.add('writesChecked', 2);
  });

  test('an attribute that is a symlink is not followed (ELOOP); a directory resolving outside the root is refused (EACCES)', () => {
    const outside = join(tmp, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'victim'), 'untouched');
    const dev = realpathSync(join(sys, 'bus/pci/devices/0000:04:00.0'));
    rmSync(join(dev, 'driver_override'), { force: true });
    symlinkSync(join(outside, 'victim'), join(dev, 'driver_override'));
    assert.throws(
      () => sc.writeSysfs('bus/pci/devices/0000:04:00.0/driver_override', 'x'),
      (e) => e instanceof KernelError && e.errno === 'ELOOP',
    );
    symlinkSync(outside, join(sys, 'bus/pci/devices/0000:7f:00.0'));
    assert.throws(
      () => sc.writeSysfs('bus/pci/devices/0000:7f:00.0/victim', 'x'),
      (e) => e instanceof KernelError && e.errno === 'EACCES' && /outside the sysfs root/.test(e.message),
    );
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'untouched');
    fig.add('writesChecked', 2);
  });
});

describe('read-only commands open nothing under /dev, write nothing but their output, load no FFI', () => {
  const sys = fixture({ bootVga: '0000:01:00.0' });
  for (const host of [`linux:${sys}`, 'linux']) {
    test(`${host === 'linux' ? 'the real /sys' : 'a fixture'}: scan, info, reset (dry run), plan, dump -o, snapshot -o`, async () => {
      const bdf = host === 'linux' ? null : '0000:05:00.0';
      const out = join(tmp, `out-${fixtures++}`);
      const runs: [string[], string[]][] = [
        [['--host', host, 'scan'], []],
        [['--host', host, '--json', 'scan'], []],
        [['--host', host, 'dump', '-o', join(out, 'dump')], [join(out, 'dump')]],
        [['--host', host, 'snapshot', '-o', join(out, 'host.yaml')], [join(out, 'host.yaml')]],
      ];
      if (bdf)
        runs.push(
          [['--host', host, 'info', bdf], []],
          [['--host', host, 'reset', bdf, '--method', 'hot'], []],
          [['--host', host, 'plan', bdf], []],
        );
      mkdirSync(out, { recursive: true });
      for (const [argv, allowed] of runs) {
        const w = await watched(() => runCli(...argv));
        assert.ok(
          w.value.code === 0 || w.value.code === 1,
          `${argv.join(' ')}: exit ${w.value.code} ${w.value.stderr}`,
        );
        assertQuiet(w, allowed);
        fig.add('readOnlyRuns');
      }
    });
  }
});

describe('read-only commands run unprivileged', () => {
  /** The CLI as uid/gid 65534 (nobody) when this runs as root; as this user otherwise. */
  function asNobody(argv: string[]) {
    const root = process.getuid?.() === 0;
    return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
      ...(root ? { uid: 65534, gid: 65534 } : {}),
      timeout: 60_000,
    });
  }

  test('scan and info on the real /sys and on a fixture: exit 0; config is cut to 64 bytes, as sysfs gives it to users', (t) => {
    const sys = fixture();
    const probe = asNobody(['--version']);
    if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'EPERM') {
      t.skip('this root cannot switch to uid 65534 (no CAP_SETUID)');
      return;
    }
    if (existsSync('/sys/bus/pci/devices')) {
      const scan = asNobody(['--json', 'scan']);
      assert.equal(scan.status, 0, `${scan.error ?? ''} ${scan.stderr}`);
      const doc = JSON.parse(scan.stdout);
      assert.equal(doc.ok, true);
      if (process.getuid?.() === 0 && doc.functions.length > 0)
        assert.ok(
          doc.functions.every((f: { problems: { code: string }[] }) =>
            f.problems.some((p) => p.code === 'partial-config'),
          ),
          'an unprivileged read of config space is 64 bytes',
        );
    }
    for (const argv of [
      ['--host', `linux:${sys}`, 'scan'],
      ['--host', `linux:${sys}`, 'info', '0000:05:00.0'],
      ['--host', `linux:${sys}`, 'reset', '0000:05:00.0'],
    ]) {
      const r = asNobody(argv);
      assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
      fig.add('unprivilegedRuns');
    }
    fig.add('unprivilegedRuns');
  });
});
