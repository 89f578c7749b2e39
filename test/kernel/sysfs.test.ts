import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basename, joinPath, resolveLink } from '../../src/kernel/sysfs.ts';

test('joinPath normalises . and .. and drops leading slashes', () => {
  assert.equal(joinPath('/bus/pci', './devices', '../drivers/x'), 'bus/pci/drivers/x');
  assert.equal(joinPath('a/b/../../..'), '');
});

test('resolveLink resolves a relative sysfs link against the directory holding it', () => {
  assert.equal(
    resolveLink('bus/pci/devices/0000:01:00.0', '../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0'),
    'devices/pci0000:00/0000:00:01.0/0000:01:00.0',
  );
  assert.equal(
    resolveLink('devices/pci0000:00/0000:00:02.0/driver', '../../../bus/pci/drivers/e1000e'),
    'bus/pci/drivers/e1000e',
  );
});

test('basename of a path', () => {
  assert.equal(basename('kernel/iommu_groups/12'), '12');
  assert.equal(basename('a/b/'), 'b');
});
