import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';

const run = runCli;

const WS = 'sim:examples/workstation.yaml';
const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('scan prints the tree with group, driver, reset methods and hot-reset scope', async () => {
  const r = await run('--host', WS, 'scan');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^Host workstation \(sim:examples\/workstation.yaml\) · IOMMU on · rules of Linux 6\.1/,
  );
  assert.match(
    r.stdout,
    /├─ 0000:01:00\.0\s+10de:2684\s+VGA controller\s+\d+\s+nvidia\s+flr pm bus\s+slot 1: 2 fns/,
  );
  assert.match(r.stdout, /\n {3}├─ 0000:03:00\.0 /, 'switch ports nest under the upstream port');
});

test('scan --json is one document with schemaVersion and every function', async () => {
  const r = await run('--host', WS, '--json', 'scan');
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.schemaVersion, 2);
  assert.equal(doc.command, 'scan');
  assert.equal(doc.ok, true);
  const gpu = doc.functions.find((f: { bdf: string }) => f.bdf === '0000:01:00.0');
  assert.equal(gpu.vendor, '0x10de');
  assert.deepEqual(gpu.resetMethods, ['flr', 'pm', 'bus']);
  assert.ok(gpu.problems.every((p: { message: string }) => typeof p.message === 'string'));
  // The GPU's reset domain is written once, with the audio function that holds its hot reset back.
  assert.equal(gpu.resetDomain, 'slot:0000:01:1');
  const slot = doc.resetDomains.find((d: { id: string }) => d.id === gpu.resetDomain);
  assert.equal(slot.kind, 'slot');
  assert.deepEqual(
    slot.affected.map((a: { bdf: string }) => a.bdf),
    ['0000:01:00.0', '0000:01:00.1'],
  );
  assert.match(
    slot.problems.map((p: { message: string }) => p.message).join('\n'),
    /hot reset of slot 1 needs 0000:01:00\.1 \(group \d+, driver snd_hda_intel\), which is not bound to vfio-pci/,
  );
});

test('info names the blocking device with driver and group and says what must be owned', async () => {
  const r = await run('--host', WS, 'info', '01:00.0');
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /hot reset of 0000:01:00\.0 needs 0000:01:00\.1 \(group \d+, driver snd_hda_intel\), which is not bound to vfio-pci/,
  );
  assert.match(
    r.stdout,
    /must own\s+group \d+ \(group mode: 1 fd\), after binding to vfio-pci: 0000:01:00\.0 \(now nvidia\), 0000:01:00\.1 \(now snd_hda_intel\)/,
  );
});

test('info --json carries mustOwn', async () => {
  const doc = JSON.parse((await run('--host', WS, '--json', 'info', '0000:01:00.1')).stdout);
  assert.equal(doc.schemaVersion, 2);
  assert.equal(doc.function.bdf, '0000:01:00.1');
  assert.equal(doc.resetDomain.id, doc.function.resetDomain);
  // The slot's blockers that hold for this function: the GPU, not the audio function itself.
  assert.deepEqual(
    doc.hotResetProblems.map((p: { code: string; bdf: string; blocker?: { bdf: string } }) => [
      p.code,
      p.bdf,
      p.blocker?.bdf,
    ]),
    [['scope-not-vfio', '0000:01:00.1', '0000:01:00.0']],
  );
  assert.deepEqual(
    doc.mustOwn.bindToVfio.map((r: { bdf: string }) => r.bdf),
    ['0000:01:00.0', '0000:01:00.1'],
  );
});

test('a BDF not on the host: one line, exit 1; in JSON mode an error document', async () => {
  const r = await run('--host', WS, 'info', '0000:77:00.0');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    "vfio-reset: 0000:77:00.0 is not on host workstation (sim:examples/workstation.yaml); 'vfio-reset scan' lists the functions\n",
  );
  const j = await run('--host', WS, '--json', 'info', '77:00.0');
  assert.equal(j.code, 1);
  assert.deepEqual(JSON.parse(j.stdout).error.code, 'VFIO_RESET_E_NO_DEVICE');
});

test('usage errors exit 2 with one line: bad BDF, bad --host, unknown command, bad era', async () => {
  for (const argv of [
    ['--host', WS, 'info', '01:00.9'],
    ['--host', 'nonsense', 'scan'],
    ['--host', WS, 'frobnicate'],
    ['--era', '5.4', 'scan'],
    ['info'],
  ]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${argv.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('a malformed topology file: one error with file:line:col, exit 1, no stack', async () => {
  const f = join(tmp, 'bad.yaml');
  writeFileSync(
    f,
    'name: x\nroots:\n  - devices:\n      - bdf: "00:00.0"\n        id: "8086:29c0"\n        kind: spaceship\n',
  );
  const r = await run('--host', `sim:${f}`, 'scan');
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`^vfio-reset: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:15: roots.0.devices.0.kind: `),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('--host sim:<missing> and linux:<not sysfs> are clear errors', async () => {
  assert.equal((await run('--host', 'sim:/nonexistent/x.yaml', 'scan')).code, 2);
  const r = await run('--host', `linux:${tmp}`, 'scan');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bus\/pci\/devices: not found; this is not a sysfs tree/);
});

test('dump writes the projection; the dump scans like the original, as linux:<dir> and as sim:<dir>', async () => {
  const dir = join(tmp, 'dump');
  const d = await run('--host', WS, 'dump', '-o', dir);
  assert.equal(d.code, 0, d.stderr);
  assert.ok(readdirSync(dir).includes('bus'));
  const original = JSON.parse((await run('--host', WS, '--json', 'scan')).stdout);
  for (const host of [`linux:${dir}`, `sim:${dir}`]) {
    const again = JSON.parse((await run('--host', host, '--json', 'scan')).stdout);
    assert.deepEqual(again.functions, original.functions, host);
    assert.deepEqual(again.resetDomains, original.resetDomains, host);
  }
  const twice = await run('--host', WS, 'dump', '-o', dir);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /directory is not empty/);
});

test('demo (npm start) shows scan and info on the workstation example', async () => {
  const r = await run('demo');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\$ vfio-reset --host sim:examples\/workstation.yaml scan/);
  assert.match(r.stdout, /\$ vfio-reset --host sim:examples\/workstation.yaml info 0000:01:00\.0/);
});

test('reset --yes on a real (fixture) sysfs without IOMMU is refused before anything is opened', async () => {
  const dir = join(tmp, 'noiommu');
  await run('--host', WS, 'dump', '-o', dir);
  rmSync(join(dir, 'kernel'), { recursive: true, force: true });
  const r = await run('--host', `linux:${dir}`, 'reset', '0000:05:00.0', '--method', 'hot', '--yes');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^vfio-reset: .*enable the IOMMU/);
});

test('reset without --yes is a dry run that names what would stop it', async () => {
  const r = await run('--host', WS, 'reset', '0000:01:00.0', '--method', 'hot');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^dry run on sim:examples\/workstation.yaml: nothing was opened or reset/);
  assert.match(
    r.stdout,
    /✗ hot reset of 0000:01:00\.0 needs 0000:01:00\.1 \(group \d+, driver snd_hda_intel\)/,
  );
});

test('a function-reset dry run names the group blocker but not the slot blocker: VFIO_DEVICE_RESET needs no other function', async () => {
  const r = await run('--host', WS, 'reset', '0000:01:00.0', '--method', 'function');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /✗ IOMMU group 9 of 0000:01:00\.0 also holds 0000:01:00\.1/);
  assert.doesNotMatch(r.stdout, /hot reset of 0000:01:00\.0 needs/);
});

test('reset --yes on the simulated host reports what ran, the affected functions and the time', async () => {
  const r = await run('--host', WS, 'reset', '0000:05:00.0', '--method', 'hot', '--yes');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^0000:05:00\.0: hot reset done in [\d.]+ ms \(virtual time\)/);
  const j = JSON.parse(
    (await run('--host', WS, '--json', 'reset', '0000:05:00.0', '--method', 'function', '--yes')).stdout,
  );
  assert.equal(j.ok, true);
  assert.equal(j.performed, 'function-reset');
  assert.ok(j.timing.resetMs > 0);
});

test('run executes a scenario file; exit 1 when a step misses its expectation', async () => {
  const ok = await run('run', 'scenarios/conformance/26-ppb-hot-reset.yaml');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const bad = join(tmp, 'bad-scenario.yaml');
  writeFileSync(
    bad,
    `name: t\ntopology: ${join(process.cwd(), 'examples/qemu-rp.yaml')}\nsteps:\n  - { open: /dev/vfio/vfio, as: c }\n  - { api-version: c, expect: 1 }\n`,
  );
  const r = await run('--json', 'run', bad);
  assert.equal(r.code, 1);
  const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual([last.type, last.passed, last.failed], ['summary', 1, 1]);
});

test('snapshot writes a topology the simulator reproduces; it never overwrites a file', async () => {
  const out = join(tmp, 'ws-snapshot.yaml');
  const r = await run('--host', WS, 'snapshot', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /computes the same IOMMU groups and reset methods as the host shows/);
  const again = JSON.parse((await run('--host', `sim:${out}`, '--json', 'scan')).stdout);
  const original = JSON.parse((await run('--host', WS, '--json', 'scan')).stdout);
  assert.deepEqual(again.functions, original.functions);
  const twice = await run('--host', WS, 'snapshot', '-o', out);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /already exists/);
});

test('import-lspci turns a dump into a topology; a bad dump is one located error', async () => {
  const out = join(tmp, 'lspci.yaml');
  const r = await run('import-lspci', 'test/fixtures/lspci/workstation.nnk-xxxx.txt', '-o', out);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await run('--host', `sim:${out}`, 'scan')).code, 0);
  const bad = join(tmp, 'bad.lspci');
  writeFileSync(bad, '00:00.0 Host bridge: x\n00: 86 80 zz\n');
  const e = await run('import-lspci', bad, '-o', join(tmp, 'never.yaml'));
  assert.equal(e.code, 1);
  assert.match(e.stderr, new RegExp(`^vfio-reset: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:\\d+: `));
});
