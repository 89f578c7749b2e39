/** plan, bind, restore, scan --format and --pci-ids through the CLI, on the simulated examples. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';

const run = runCli;

const WS = 'sim:examples/workstation.yaml';
const IDS = ['--pci-ids', 'test/fixtures/pci.ids'];
const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-op-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('plan: groups with every member and driver, verdicts, names from --pci-ids', async () => {
  const r = await run('--host', WS, ...IDS, 'plan', '01:00.0', '01:00.1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /IOMMU group 9 \(for 0000:01:00\.0, 0000:01:00\.1\)/);
  assert.match(
    r.stdout,
    /0000:01:00\.1 {2}snd_hda_intel → vfio-pci\s+NVIDIA Corporation AD102 High Definition Audio Controller/,
  );
  assert.match(r.stdout, /✓ resettable: function reset by flr/);
  assert.match(
    r.stdout,
    /~ resettable only together with 0000:01:00\.0: multi-device hot reset of slot 1 at VM reset/,
  );
  assert.match(r.stdout, /predicted: 105 ms for the flr reset/);
  assert.equal(r.stderr, '');
});

test('plan names what a hot reset hits outside the set, and hosts the host uses', async () => {
  const r = await run('--host', WS, ...IDS, 'plan', '00:1f.3');
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /binding group 8 for 0000:00:1f\.3 takes 0000:00:1f\.6 \(group 8, driver e1000e\) from the host, which carries the default route \(assumed on a simulated host\)/,
  );
  const one = await run('--host', WS, ...IDS, 'plan', '08:00.0');
  assert.match(
    one.stdout,
    /0000:08:00\.1 \(group 17, driver tg3\) — by 0000:08:00\.0; its group is bound to vfio-pci by this plan/,
  );
});

test('plan --what-if: the simulated copy binds, opens and resets; progress on stderr, plain', async () => {
  const r = await run('--host', WS, ...IDS, 'plan', '--what-if', '01:00.0', '01:00.1');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /What if \(a simulated copy of sim:examples\/workstation\.yaml, group mode/);
  assert.match(
    r.stdout,
    /0000:01:00\.1 {2}multi-device hot reset at VM reset in \d+ ms; reset 0000:01:00\.0, 0000:01:00\.1/,
  );
  assert.match(r.stderr, /^what-if \[0\/6\] open 0000:01:00\.0$/m);
  assert.ok(!r.stderr.includes('\u001b'), 'no escape codes off a TTY');
  const j = JSON.parse(
    (await run('--host', WS, '--era', '6.6+', '--json', 'plan', '--what-if', '01:00.1')).stdout,
  );
  assert.equal(j.whatIf.mode, 'cdev');
  assert.equal(j.whatIf.deviceResets[0].performed, 'hot-reset-single');
});

test('plan --json: the verdicts as data', async () => {
  const doc = JSON.parse((await run('--host', WS, '--json', 'plan', '01:00.1')).stdout);
  assert.equal(doc.command, 'plan');
  assert.deepEqual(doc.devices[0].verdict, { kind: 'resettable', by: 'hot-reset-single', method: 'slot' });
  assert.deepEqual(doc.collateral[0].device, { bdf: '0000:01:00.0', driver: 'nvidia', group: 9 });
});

test('bind is a dry run without --yes; refuses a group with a host device unless it is named', async () => {
  const dry = await run('--host', WS, 'bind', '01:00.0');
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /^dry run on sim:examples\/workstation\.yaml: nothing was changed/);
  const refused = await run('--host', WS, 'bind', '00:1f.3', '--yes', '--record', join(tmp, 'never.json'));
  assert.equal(refused.code, 1);
  assert.match(
    refused.stdout,
    /✗ group 8 \(for 0000:00:1f\.3\) holds 0000:00:1f\.6 \(group 8, driver e1000e\)/,
  );
  assert.ok(!existsSync(join(tmp, 'never.json')), 'nothing written when refused');
  const named = await run('--host', WS, 'bind', '00:1f.3', '00:1f.6');
  assert.equal(named.code, 0, 'naming the host device is the consent');
});

test('bind --yes writes the record (never over an existing one); restore puts the drivers back', async () => {
  const rec = join(tmp, 'rec.json');
  const b = await run(
    '--host',
    WS,
    'bind',
    '01:00.1',
    '--yes',
    '--record',
    rec,
    '--save',
    join(tmp, 'bound'),
  );
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /✓ 0000:01:00\.0: nvidia → vfio-pci/);
  assert.match(b.stderr, /^bind \[0\/2\] bind 0000:01:00\.0 \(group 9\) nvidia → vfio-pci$/m);
  const record = JSON.parse(readFileSync(rec, 'utf8'));
  assert.deepEqual(
    record.devices.map((d: { bdf: string; driver: string }) => `${d.bdf} ${d.driver}`),
    ['0000:01:00.0 nvidia', '0000:01:00.1 snd_hda_intel'],
  );
  const again = await run('--host', WS, 'bind', '01:00.1', '--yes', '--record', rec);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /rec\.json already exists/);
  assert.match(
    (await run('--host', `sim:${join(tmp, 'bound')}`, 'scan')).stdout,
    /0000:01:00\.1 .* vfio-pci /,
  );
  const dry = await run('--host', `sim:${join(tmp, 'bound')}`, 'restore', '--record', rec);
  assert.match(dry.stdout, /0000:01:00\.0 {2}→ nvidia/);
  const r = await run(
    '--host',
    `sim:${join(tmp, 'bound')}`,
    'restore',
    '--record',
    rec,
    '--yes',
    '--save',
    join(tmp, 'back'),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /✓ 0000:01:00\.1: vfio-pci → snd_hda_intel/);
  assert.match(
    (await run('--host', `sim:${join(tmp, 'back')}`, 'scan')).stdout,
    /0000:01:00\.1 .* snd_hda_intel /,
  );
});

test('restore: a missing or malformed record is one line, exit 1', async () => {
  const missing = await run('--host', WS, 'restore', '--record', join(tmp, 'nope.json'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^vfio-reset: cannot read restore record .*nope\.json: ENOENT/);
  const bad = join(tmp, 'bad.json');
  writeFileSync(bad, '{\n  "schemaVersion": 1,\n  oops\n}\n');
  const r = await run('--host', WS, 'restore', '--record', bad);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`^vfio-reset: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not JSON`),
  );
  writeFileSync(
    bad,
    JSON.stringify({
      schemaVersion: 1,
      kind: 'vfio-reset-restore',
      host: 'x',
      origin: 'x',
      createdAt: 'x',
      devices: [{ bdf: '1:0.0' }],
    }),
  );
  assert.match(
    (await run('--host', WS, 'restore', '--record', bad)).stderr,
    /devices\.0\.bdf: a canonical BDF/,
  );
  for (const x of [missing, r]) assert.equal(x.stderr.trim().split('\n').length, 1);
});

test('scan --format prometheus: HELP/TYPE, vfio_reset_ prefix, bdf/driver/group/host labels', async () => {
  const r = await run('--host', WS, 'scan', '--format', 'prometheus');
  assert.equal(r.code, 0);
  const lines = r.stdout.trim().split('\n');
  for (const l of lines)
    assert.match(
      l,
      /^(# (HELP|TYPE) vfio_reset_\w+ .+|vfio_reset_\w+\{bdf="[^"]+",driver="[^"]+",group="[^"]+",host="workstation"\} \d+)$/,
    );
  assert.ok(lines.includes('# TYPE vfio_reset_device_resettable gauge'));
  assert.ok(
    lines.includes(
      'vfio_reset_device_hot_reset_scope_functions{bdf="0000:01:00.0",driver="nvidia",group="9",host="workstation"} 2',
    ),
  );
  assert.ok(
    lines.includes(
      'vfio_reset_device_bound_to_vfio{bdf="0000:05:00.0",driver="vfio-pci",group="16",host="workstation"} 1',
    ),
  );
  assert.equal(JSON.parse((await run('--host', WS, 'scan', '--format', 'json')).stdout).command, 'scan');
});

test('info and scan show pci.ids names, falling back to hex', async () => {
  const info = await run('--host', WS, ...IDS, 'info', '04:00.0');
  assert.match(info.stdout, /name {11}Samsung Electronics Co Ltd NVMe SSD Controller PM9A1\/PM9A3\/980PRO/);
  assert.match(info.stdout, /subsystem {6}SSD 980 PRO/);
  const scan = await run('--host', WS, ...IDS, 'scan');
  assert.match(scan.stdout, /0000:05:00\.0 .* SK hynix Device 174a\n/);
});

test('bad arguments: one line, exit 2', async () => {
  for (const argv of [
    ['--host', WS, 'plan'],
    ['--host', WS, 'plan', '01:00.9'],
    ['--host', WS, 'bind'],
    ['--host', WS, 'bind', '01:00.0', '--record'],
    ['--host', WS, 'plan', '--mode', 'fast', '01:00.0'],
    ['--host', WS, 'scan', '--format', 'xml'],
    ['--host', WS, '--json', 'scan', '--format', 'prometheus'],
    ['--host', WS, '--pci-ids', join(tmp, 'none.ids'), 'info', '01:00.0'],
    ['--host', WS, 'restore', 'extra'],
  ]) {
    const r = await run(...argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${argv.join(' ')}: ${r.stderr}`);
  }
  const malformed = join(tmp, 'bad.ids');
  writeFileSync(malformed, '10de  NVIDIA\n\t2684 one space\n');
  const r = await run('--host', WS, '--pci-ids', malformed, 'info', '01:00.0');
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `vfio-reset: ${malformed}:2: not a device line: "\\t2684 one space" (pci.ids lines are 'vvvv  vendor', tab 'dddd  device', two tabs 'ssss dddd  subsystem', or 'C cc  class'; pass another file with --pci-ids)\n`,
  );
});
