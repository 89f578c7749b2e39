/**
 * Checks the codecs' sizes, offsets and request numbers against the system's
 * <linux/vfio.h> with a small C program. Debian 12's header is 6.1 (no cdev/iommufd), so only
 * the group-mode ABI is checked here; skipped where there is no header or no C compiler.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { VFIO } from '../../src/uapi/ioctl.ts';
import {
  DEPENDENT_DEVICE_SIZE,
  GROUP_STATUS_SIZE,
  HOT_RESET_HEADER_SIZE,
} from '../../src/uapi/vfio-structs.ts';

const HEADER = '/usr/include/linux/vfio.h';
const cc = spawnSync('cc', ['--version']).status === 0;

test('§2.1 layout matches <linux/vfio.h>', {
  skip: !existsSync(HEADER) || !cc ? `needs ${HEADER} and a C compiler` : false,
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-layout-'));
  try {
    const src = `#include <stdio.h>
#include <stddef.h>
#include <linux/vfio.h>
int main(void) {
  printf("GROUP_STATUS %zu\\n", sizeof(struct vfio_group_status));
  printf("HOT_RESET_INFO %zu\\n", sizeof(struct vfio_pci_hot_reset_info));
  printf("DEPENDENT %zu\\n", sizeof(struct vfio_pci_dependent_device));
  printf("DEP_SEGMENT %zu\\n", offsetof(struct vfio_pci_dependent_device, segment));
  printf("DEP_BUS %zu\\n", offsetof(struct vfio_pci_dependent_device, bus));
  printf("DEP_DEVFN %zu\\n", offsetof(struct vfio_pci_dependent_device, devfn));
  printf("HOT_RESET %zu\\n", sizeof(struct vfio_pci_hot_reset));
  printf("HOT_RESET_FDS %zu\\n", offsetof(struct vfio_pci_hot_reset, group_fds));
  printf("INFO_NUM_IRQS_END %zu\\n", offsetof(struct vfio_device_info, num_irqs) + 4);
  printf("REQ_GET_INFO %lu\\n", (unsigned long)VFIO_DEVICE_GET_INFO);
  printf("REQ_RESET %lu\\n", (unsigned long)VFIO_DEVICE_RESET);
  printf("REQ_HR_INFO %lu\\n", (unsigned long)VFIO_DEVICE_GET_PCI_HOT_RESET_INFO);
  printf("REQ_HR %lu\\n", (unsigned long)VFIO_DEVICE_PCI_HOT_RESET);
  printf("REQ_GET_FD %lu\\n", (unsigned long)VFIO_GROUP_GET_DEVICE_FD);
  printf("REQ_SET_IOMMU %lu\\n", (unsigned long)VFIO_SET_IOMMU);
  return 0;
}
`;
    writeFileSync(join(dir, 'o.c'), src);
    const build = spawnSync('cc', ['-o', join(dir, 'o'), join(dir, 'o.c')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    const run = spawnSync(join(dir, 'o'), { encoding: 'utf8' });
    const got = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    assert.equal(Number(got.GROUP_STATUS), GROUP_STATUS_SIZE);
    assert.equal(Number(got.HOT_RESET_INFO), HOT_RESET_HEADER_SIZE);
    assert.equal(Number(got.DEPENDENT), DEPENDENT_DEVICE_SIZE);
    assert.deepEqual([got.DEP_SEGMENT, got.DEP_BUS, got.DEP_DEVFN].map(Number), [4, 6, 7]);
    assert.equal(Number(got.HOT_RESET), HOT_RESET_HEADER_SIZE);
    assert.equal(Number(got.HOT_RESET_FDS), HOT_RESET_HEADER_SIZE);
    assert.equal(Number(got.INFO_NUM_IRQS_END), 16);
    assert.equal(Number(got.REQ_GET_INFO), VFIO.DEVICE_GET_INFO);
    assert.equal(Number(got.REQ_RESET), VFIO.DEVICE_RESET);
    assert.equal(Number(got.REQ_HR_INFO), VFIO.DEVICE_GET_PCI_HOT_RESET_INFO);
    assert.equal(Number(got.REQ_HR), VFIO.DEVICE_PCI_HOT_RESET);
    assert.equal(Number(got.REQ_GET_FD), VFIO.GROUP_GET_DEVICE_FD);
    assert.equal(Number(got.REQ_SET_IOMMU), VFIO.SET_IOMMU);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
