/**
 * Smoke test on this machine's real /sys (read-only): whatever the host is — no IOMMU, no
 * reset_method files, 64-byte config for non-root — the inventory reads it without error.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { takeInventory } from '../../src/host/inventory.ts';
import { DirSysfsReader } from '../../src/linux/sysfs-reader.ts';

test('the real /sys reads into an inventory', {
  skip: existsSync('/sys/bus/pci/devices') ? false : 'no /sys/bus/pci here',
}, () => {
  const inv = takeInventory(new DirSysfsReader('/sys'));
  assert.ok(inv.functions.length > 0);
  for (const f of inv.functions) {
    assert.match(f.bdf, /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
    if (!inv.iommu) assert.equal(f.group, null, 'no IOMMU, no groups');
  }
});
