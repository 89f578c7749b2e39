import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SysfsError } from '../../src/kernel/sysfs.ts';
import { DirSysfsReader } from '../../src/linux/sysfs-reader.ts';

const root = mkdtempSync(join(tmpdir(), 'vfio-reset-sysfs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const dev = join(root, 'devices/pci0000:00/0000:00:02.0');
mkdirSync(dev, { recursive: true });
writeFileSync(join(dev, 'vendor'), '0x8086\n');
writeFileSync(join(dev, 'config'), Buffer.from([0x86, 0x80, 0xd3, 0x10]));
mkdirSync(join(root, 'bus/pci/devices'), { recursive: true });
symlinkSync('../../../devices/pci0000:00/0000:00:02.0', join(root, 'bus/pci/devices/0000:00:02.0'));

test('reads text, bytes, directory listings and links relative to the root', () => {
  const r = new DirSysfsReader(root);
  assert.equal(r.readText('bus/pci/devices/0000:00:02.0/vendor'), '0x8086\n');
  assert.deepEqual([...r.readBytes('devices/pci0000:00/0000:00:02.0/config')], [0x86, 0x80, 0xd3, 0x10]);
  assert.deepEqual(r.list('bus/pci/devices'), ['0000:00:02.0']);
  assert.equal(r.readLink('bus/pci/devices/0000:00:02.0'), '../../../devices/pci0000:00/0000:00:02.0');
  assert.equal(r.kind('bus/pci/devices/0000:00:02.0'), 'link');
  assert.equal(r.kind('devices'), 'dir');
  assert.equal(r.kind('missing'), null);
});

test('failures become SysfsError naming the path and the errno', () => {
  const r = new DirSysfsReader(root);
  assert.throws(
    () => r.readText('bus/pci/devices/0000:00:03.0/vendor'),
    (e: unknown) =>
      e instanceof SysfsError && e.errno === 'ENOENT' && e.path === 'bus/pci/devices/0000:00:03.0/vendor',
  );
});

test('a path with `..` is folded by name, as the readers mean it; `.` and `//` read as they are', () => {
  const r = new DirSysfsReader(root);
  // bus/pci/devices/<bdf> is a link: the kernel would take `..` after following it (to the root).
  assert.deepEqual(r.list('bus/pci/devices/0000:00:02.0/../..'), ['devices']);
  assert.equal(r.readText('devices/./pci0000:00//0000:00:02.0/vendor'), '0x8086\n');
  assert.deepEqual(r.list(''), ['bus', 'devices']);
});

test('lists a directory sorted', () => {
  const dir = join(root, 'devices/pci0000:00/0000:00:02.0');
  for (const n of ['b', 'A', 'a', '_', '0']) writeFileSync(join(dir, n), '');
  const names = new DirSysfsReader(root).list('devices/pci0000:00/0000:00:02.0');
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(names.slice(0, 4), ['0', 'A', '_', 'a']);
});
