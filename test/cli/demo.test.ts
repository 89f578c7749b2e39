/** `npm start` (cli/demo.ts, cli/demo-cdev.ts): the cdev-mode plan and the error-and-recovery story. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runDemo } from '../../src/cli/demo.ts';

test('the demo shows a 6.6+ cdev-mode plan: bind to iommufd, INFO dev_ids, NOT_OWNED named, empty-array reset', () => {
  let text = '';
  assert.equal(
    runDemo((s) => {
      text += s;
    }),
    0,
  );
  const cdev = text.slice(text.indexOf('Linux 6.6+: the GPU in cdev mode'));
  assert.match(cdev, /VFIO_DEVICE_BIND_IOMMUFD → devid 1/);
  assert.match(cdev, /flags DEV_ID \(DEV_ID_OWNED clear/);
  assert.match(cdev, /✗ 0000:01:00\.1 {2}NOT_OWNED +driver pci-stub, group 9/);
  assert.match(cdev, /✗ hot reset of 0000:01:00\.0 needs 0000:01:00\.1 \(group 9, driver pci-stub\)/);
  assert.match(cdev, /flags DEV_ID\|DEV_ID_OWNED/);
  assert.match(cdev, /0000:01:00\.1 {2}OWNED \(through its IOMMU group\)/);
  assert.match(cdev, /VFIO_DEVICE_PCI_HOT_RESET with count 0 .* → 0, slot reset/);
  // The error story: the event, the reset, the re-read.
  assert.match(cdev, /pcieport 0000:00:01\.0: AER: Uncorrected \(Non-Fatal\) error received: 0000:01:00\.0/);
  assert.match(cdev, /1 error event\(s\) read from the ERR eventfd/);
  assert.match(cdev, /function-reset: done/);
  assert.match(cdev, /config space answers again/);
  assert.match(cdev, /BAR1 256 MiB → 32 GiB/);
  assert.match(cdev, /Relaying device request to user \(#0\)/);
  assert.match(cdev, /0000:01:00\.0 is now unbound/);
});
