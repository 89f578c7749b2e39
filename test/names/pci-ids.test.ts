import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LazyPciIds, readPciIdsFile, SYSTEM_PCI_IDS } from '../../src/names/load.ts';
import { deviceTitle, HEX_ONLY, subsystemTitle } from '../../src/names/namer.ts';
import { PciIdsError, PciIdsParser, parsePciIds } from '../../src/names/pci-ids.ts';

const FIXTURE = 'test/fixtures/pci.ids';
const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-ids-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const gpu = { vendor: 0x10de, device: 0x2684, subsystemVendor: 0, subsystemDevice: 0, classCode: 0x030000 };
const nvme = {
  vendor: 0x144d,
  device: 0xa80a,
  subsystemVendor: 0x144d,
  subsystemDevice: 0xa801,
  classCode: 0x010802,
};

test('vendor, device, subsystem and class names from the fixture', () => {
  const db = readPciIdsFile(FIXTURE)!;
  assert.equal(db.vendor(0x10de), 'NVIDIA Corporation');
  assert.equal(db.device(0x10de, 0x2684), 'AD102 [GeForce RTX 4090]');
  assert.equal(db.subsystem(0x144d, 0xa80a, 0x144d, 0xa801), 'SSD 980 PRO');
  assert.equal(db.className(0x010802), 'NVM Express', 'prog-if is the most specific name');
  assert.equal(db.className(0x030000), 'VGA controller');
  assert.equal(db.className(0x03ff00), 'Display controller', 'unknown subclass: the base class');
  assert.equal(db.className(0xfe0000), null);
});

test('titles read like lspci and fall back to hex', () => {
  const db = new LazyPciIds(FIXTURE);
  assert.equal(deviceTitle(db, gpu), 'NVIDIA Corporation AD102 [GeForce RTX 4090]');
  assert.equal(deviceTitle(db, { ...gpu, vendor: 0x1c5c, device: 0x174a }), 'SK hynix Device 174a');
  assert.equal(deviceTitle(db, { ...gpu, vendor: 0xabcd, device: 0x0001 }), 'Device abcd:0001');
  assert.equal(deviceTitle(HEX_ONLY, gpu), 'Device 10de:2684');
  assert.equal(subsystemTitle(db, nvme), 'SSD 980 PRO');
  assert.equal(subsystemTitle(db, { ...nvme, subsystemDevice: 0x1234 }), '144d:1234');
  assert.equal(subsystemTitle(db, gpu), null);
});

test('chunks of any size parse to the same maps (streaming)', () => {
  const text = readFileSync(FIXTURE, 'utf8');
  for (const size of [1, 7, 4096]) {
    const p = new PciIdsParser('x');
    for (let i = 0; i < text.length; i += size) p.push(text.slice(i, i + size));
    const db = p.end();
    assert.equal(db.device(0x8086, 0x1a1f), 'Ethernet Connection (16) I219-V', `chunk ${size}`);
    assert.equal(db.subsystem(0x144d, 0xa80a, 0x144d, 0xa801), 'SSD 980 PRO');
  }
  assert.equal(parsePciIds('10de  NVIDIA').vendor(0x10de), 'NVIDIA', 'last line without newline');
  assert.equal(parsePciIds('10de  NVIDIA\r\n\t2684  X\r\n').device(0x10de, 0x2684), 'X', 'CRLF');
});

test('a malformed line is one error with file:line', () => {
  const cases: [string, number, RegExp][] = [
    ['# c\n10de  NVIDIA\n\t2684 one space\n', 3, /not a device line/],
    ['\t2684  orphan device\n', 1, /device line before any vendor/],
    ['10de  NVIDIA\n\t\t1043 8a33  orphan subsystem\n', 2, /subsystem line before any device/],
    ['C 03  Display\n\t\t00  VGA\n', 2, /prog-if line before any subclass/],
    ['C 03  Display\nzz\n', 2, /not a pci\.ids line/],
    ['C 03  Display\n\t0  short subclass\n', 2, /not a subclass line/],
    ['10de  NVIDIA\n\t2684  X\nC 0  short class\n', 3, /not a class line/],
  ];
  for (const [text, line, re] of cases) {
    const f = join(tmp, `bad-${line}-${text.length}.ids`);
    writeFileSync(f, text);
    assert.throws(
      () => new LazyPciIds(f).db(),
      (e: unknown) =>
        e instanceof PciIdsError &&
        e.line === line &&
        re.test(e.message) &&
        e.message.startsWith(`${f}:${line}: `),
      JSON.stringify(text),
    );
  }
});

test('no file: hex names and no error; an explicit missing file is a usage error', () => {
  const none = new LazyPciIds(null, [join(tmp, 'nope1'), join(tmp, 'nope2')]);
  assert.equal(none.db(), null);
  assert.equal(deviceTitle(none, gpu), 'Device 10de:2684');
  const fallback = new LazyPciIds(null, [join(tmp, 'nope1'), FIXTURE]);
  assert.equal(fallback.db()?.source, FIXTURE, 'the first system file found');
  assert.throws(
    () => new LazyPciIds(join(tmp, 'missing.ids')).db(),
    (e: unknown) => (e as { code?: string }).code === 'VFIO_RESET_E_USAGE' && /no such file/.test(String(e)),
  );
});

test('the system pci.ids, when installed, parses whole', {
  skip: !SYSTEM_PCI_IDS.some((p) => existsSync(p)),
}, () => {
  const path = SYSTEM_PCI_IDS.find((p) => existsSync(p))!;
  const db = readPciIdsFile(path)!;
  assert.ok(db.vendorCount > 1000);
  assert.equal(db.vendor(0x8086), 'Intel Corporation');
});
