import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KernelError, type KernelHost } from '../../src/kernel/syscalls.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { GroupSession } from '../../src/vfio/group-session.ts';
import { hotResetInfo } from '../../src/vfio/ioctls.ts';
import { simOf } from '../helpers/sim.ts';

/** The simulated kernel, except that the first `n` hot-reset INFO calls fail with `errno`. */
function flaky(n: number, errno: 'EAGAIN'): KernelHost & { calls: number } {
  const k = simOf('qemu-ppb');
  const host = {
    calls: 0,
    sysfs: k.sysfs,
    sys: {
      ...k.sys,
      ioctl: (fd: number, request: number, arg?: Uint8Array | number) => {
        if (request === VFIO.DEVICE_GET_PCI_HOT_RESET_INFO && host.calls++ < n)
          throw new KernelError(errno, 'ioctl', 'injected race', 'I8');
        return k.sys.ioctl(fd, request, arg);
      },
    },
  };
  return host;
}

test('I8: the INFO two-call protocol starts again when the scope changed between count and fill (EAGAIN)', () => {
  const host = flaky(1, 'EAGAIN');
  const dev = new GroupSession(host).openDevice('0000:02:01.0');
  const info = hotResetInfo(host.sys, dev.fd);
  assert.equal(info.entries.length, 2);
  assert.ok(host.calls >= 3, 'one refused call, then the ENOSPC + fill pair');
});

test('I8: a scope that keeps changing ends in EAGAIN after bounded attempts, not a loop', () => {
  const host = flaky(100, 'EAGAIN');
  const dev = new GroupSession(host).openDevice('0000:02:01.0');
  assert.throws(
    () => hotResetInfo(host.sys, dev.fd),
    (e: unknown) => e instanceof KernelError && e.errno === 'EAGAIN',
  );
  assert.ok(host.calls <= 4);
});
