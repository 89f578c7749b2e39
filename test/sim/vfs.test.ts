import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SysfsError } from '../../src/kernel/sysfs.ts';
import { Vfs } from '../../src/sim/vfs.ts';

function sample(): Vfs {
  const v = new Vfs('sim:test');
  v.file('devices/pci0000:00/0000:00:02.0/vendor', '0x8086\n');
  v.symlink('bus/pci/devices/0000:00:02.0', '../../../devices/pci0000:00/0000:00:02.0');
  v.mkdir('bus/pci/drivers/e1000e');
  v.symlink('devices/pci0000:00/0000:00:02.0/driver', '../../../bus/pci/drivers/e1000e');
  return v;
}

test('files read through symlinked directories, as sysfs does', () => {
  const v = sample();
  assert.equal(v.readText('bus/pci/devices/0000:00:02.0/vendor'), '0x8086\n');
  assert.deepEqual(v.list('bus/pci/devices/0000:00:02.0'), ['driver', 'vendor']);
});

test('kind does not follow a final link; readLink returns the stored target', () => {
  const v = sample();
  assert.equal(v.kind('bus/pci/devices/0000:00:02.0'), 'link');
  assert.equal(v.kind('bus/pci/devices/0000:00:02.0/vendor'), 'file');
  assert.equal(v.kind('bus/pci/devices/0000:00:02.0/driver'), 'link');
  assert.equal(v.kind('nope'), null);
  assert.equal(v.readLink('devices/pci0000:00/0000:00:02.0/driver'), '../../../bus/pci/drivers/e1000e');
});

test('dynamic files read the current value at every read', () => {
  const v = new Vfs('sim:test');
  let n = 1;
  v.file('x', () => `${n}\n`);
  assert.equal(v.readText('x'), '1\n');
  n = 2;
  assert.equal(v.readText('x'), '2\n');
});

test('missing paths and wrong kinds are SysfsError with an errno name', () => {
  const v = sample();
  assert.throws(
    () => v.readText('bus/pci/devices/0000:00:03.0/vendor'),
    (e: unknown) => e instanceof SysfsError && e.errno === 'ENOENT',
  );
  assert.throws(
    () => v.readText('bus/pci'),
    (e: unknown) => e instanceof SysfsError && e.errno === 'EISDIR',
  );
  assert.throws(
    () => v.list('devices/pci0000:00/0000:00:02.0/vendor'),
    (e: unknown) => e instanceof SysfsError && e.errno === 'ENOTDIR',
  );
  assert.throws(
    () => v.readLink('bus/pci'),
    (e: unknown) => e instanceof SysfsError && e.errno === 'EINVAL',
  );
});

test('a symlink loop ends in ELOOP, not a hang', () => {
  const v = new Vfs('sim:test');
  v.symlink('a', 'b');
  v.symlink('b', 'a');
  assert.throws(
    () => v.readText('a'),
    (e: unknown) => e instanceof SysfsError && e.errno === 'ELOOP',
  );
});

test('walk lists every entry below a path without following links', () => {
  const paths = sample()
    .walk('bus')
    .map((e) => `${e.kind} ${e.path}`);
  assert.deepEqual(paths, [
    'dir bus/pci',
    'dir bus/pci/devices',
    'link bus/pci/devices/0000:00:02.0',
    'dir bus/pci/drivers',
    'dir bus/pci/drivers/e1000e',
  ]);
});
