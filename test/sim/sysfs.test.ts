import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { writeSysfsDump } from '../../src/host/dump.ts';
import { takeInventory } from '../../src/host/inventory.ts';
import { DirSysfsReader } from '../../src/linux/sysfs-reader.ts';
import { SimHost } from '../../src/sim/host.ts';
import { devicePath, projectSysfs, relativeTarget } from '../../src/sim/sysfs.ts';
import { generateHost } from '../../src/topology/generate.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { conventional, host, hostBridge, pcieToPciBridge, rootPort } from '../helpers/builders.ts';

const ppb = () => new SimHost(loadTopologyFile('examples/qemu-ppb.yaml'));

test('devices nest under pci<dom>:<bus> following the bridges, as in /sys/devices', () => {
  const h = new SimHost(
    host([hostBridge(), rootPort('00:02.0', 1), pcieToPciBridge('01:00.0', 2), conventional('02:01.0')]),
  );
  assert.equal(
    devicePath(h.topology.get('0000:02:01.0')!),
    'devices/pci0000:00/0000:00:02.0/0000:01:00.0/0000:02:01.0',
  );
  assert.equal(
    relativeTarget('bus/pci/devices/0000:00:02.0', 'devices/pci0000:00/0000:00:02.0'),
    '../../../devices/pci0000:00/0000:00:02.0',
  );
});

test('attributes read as Linux prints them', () => {
  const v = projectSysfs(ppb());
  const d = 'bus/pci/devices/0000:02:01.0';
  assert.equal(v.readText(`${d}/vendor`), '0x8086\n');
  assert.equal(v.readText(`${d}/class`), '0x020000\n');
  assert.equal(v.readText(`${d}/driver_override`), 'vfio-pci\n', 'the rig binds through driver_override');
  assert.equal(v.readText('bus/pci/devices/0000:00:02.0/driver_override'), '(null)\n');
  assert.equal(v.readLink(`${d}/driver`), '../../../../../bus/pci/drivers/vfio-pci');
  assert.equal(v.readBytes(`${d}/config`).length, 256, 'conventional functions expose 256 bytes');
  assert.equal(v.readBytes('bus/pci/devices/0000:00:02.0/config').length, 4096);
  assert.equal(v.readText('bus/pci/devices/0000:00:02.0/max_link_speed').endsWith('GT/s PCIe\n'), true);
});

test('Y1/Y2: reset_method and reset exist only where a method existed at registration (PPB: 01.0 "bus", 01.1 neither)', () => {
  const v = projectSysfs(ppb());
  assert.equal(v.readText('bus/pci/devices/0000:02:01.0/reset_method'), 'bus\n');
  assert.equal(v.kind('bus/pci/devices/0000:02:01.0/reset'), 'file');
  assert.equal(v.kind('bus/pci/devices/0000:02:01.1/reset_method'), null);
  assert.equal(v.kind('bus/pci/devices/0000:02:01.1/reset'), null);
});

test('Y2: an emptied list reads as 0 bytes while the attribute stays', () => {
  const h = ppb();
  const v = projectSysfs(h);
  h.state('0000:02:01.0')!.resetMethods = [];
  assert.equal(v.readText('bus/pci/devices/0000:02:01.0/reset_method'), '');
});

test('scenario 54: the iommu_groups directory lists the pcie-pci-bridge and both e1000', () => {
  const h = ppb();
  const v = projectSysfs(h);
  const g = h.groups.groupOf('0000:02:01.0')!;
  assert.deepEqual(v.list(`kernel/iommu_groups/${g}/devices`), [
    '0000:01:00.0',
    '0000:02:01.0',
    '0000:02:01.1',
  ]);
  assert.equal(
    v.readLink('bus/pci/devices/0000:02:01.1/iommu_group'),
    `../../../../../kernel/iommu_groups/${g}`,
  );
});

test('slots appear under bus/pci/slots with address and, for hotplug drivers, a module link', () => {
  const v = projectSysfs(new SimHost(loadTopologyFile('examples/qemu-rpn.yaml')));
  const [name] = v.list('bus/pci/slots');
  assert.ok(name);
  assert.match(v.readText(`bus/pci/slots/${name}/address`), /^0000:[0-9a-f]{2}:00\n$/);
  assert.equal(v.readLink(`bus/pci/slots/${name}/module`).split('/').pop(), 'pciehp');
});

test('with the IOMMU off there is no kernel/iommu_groups and no iommu_group link', () => {
  const v = projectSysfs(new SimHost(loadTopologyFile('examples/qemu-rp.yaml'), { iommu: false }));
  assert.equal(v.kind('kernel/iommu_groups'), null);
  assert.equal(v.kind('bus/pci/devices/0000:01:00.0/iommu_group'), null);
});

function roundTrip(h: SimHost): void {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-reset-dump-'));
  try {
    const projected = projectSysfs(h, 'origin');
    writeSysfsDump(projected, dir);
    const a = takeInventory(projected);
    const b = takeInventory(new DirSysfsReader(dir));
    assert.deepEqual({ ...b, origin: 'origin', host: 'origin' }, { ...a, host: 'origin' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a dump of the projection, read back through the real reader, gives an identical inventory (examples)', () => {
  for (const f of ['workstation', 'qemu-ppb', 'qemu-sw', 'qemu-rpn', 'qemu-mf', 'qemu-root'])
    roundTrip(new SimHost(loadTopologyFile(`examples/${f}.yaml`)));
});

test('property: dump round trip holds for random hosts', () => {
  fc.assert(
    fc.property(fc.integer(), (seed) => roundTrip(new SimHost(generateHost(seed, { maxFunctions: 12 })))),
    { numRuns: 25 },
  );
});
