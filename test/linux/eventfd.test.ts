/**
 * The Linux backend's eventfd(2), read(2) and poll(2) — what VFIO's ERR and REQ notifications
 * arrive on. An eventfd needs no device and no privilege, so this runs on the real kernel of the
 * machine running the tests (nothing is bound, opened or reset).
 */
import assert from 'node:assert/strict';
import { writeSync } from 'node:fs';
import { describe, it } from 'node:test';
import { KernelError } from '../../src/kernel/syscalls.ts';
import { ffiStatus } from '../../src/linux/ioctl.ts';
import { LinuxSyscalls } from '../../src/linux/syscalls.ts';

const ffi = ffiStatus();
const skip = ffi.ok ? false : `koffi is not usable here: ${ffi.reason}`;

function signal(fd: number, n: bigint): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  writeSync(fd, b);
}

describe('LinuxSyscalls eventfd / poll', { skip }, () => {
  it('an eventfd polls readable once signalled, reads the summed counter, then EAGAIN', () => {
    const sys = new LinuxSyscalls();
    const efd = sys.eventfd();
    try {
      assert.deepEqual(sys.poll([efd], 0), [], 'nothing signalled yet');
      assert.throws(
        () => sys.readEventfd(efd),
        (e: unknown) => e instanceof KernelError && e.errno === 'EAGAIN',
      );
      signal(efd, 2n);
      signal(efd, 1n);
      assert.deepEqual(sys.poll([efd], 1000), [efd]);
      assert.equal(sys.readEventfd(efd), 3, 'the kernel sums signals until the read');
      assert.deepEqual(sys.poll([efd], 0), []);
    } finally {
      sys.close(efd);
    }
  });

  it('poll reports only the readable fds of several', () => {
    const sys = new LinuxSyscalls();
    const a = sys.eventfd();
    const b = sys.eventfd();
    try {
      signal(b, 1n);
      assert.deepEqual(sys.poll([a, b], 100), [b]);
    } finally {
      sys.close(a);
      sys.close(b);
    }
  });

  it('a closed fd is EBADF, from read as from the kernel', () => {
    const sys = new LinuxSyscalls();
    const efd = sys.eventfd();
    sys.close(efd);
    assert.throws(
      () => sys.readEventfd(efd),
      (e: unknown) => e instanceof KernelError && e.errno === 'EBADF',
    );
  });
});

describe('LinuxSyscalls eventfd without koffi', () => {
  it('refuses with the raw call the caller injected, as the kernel would', () => {
    const sys = new LinuxSyscalls({ rawEventfd: () => -24, rawPoll: () => -4 });
    assert.throws(
      () => sys.eventfd(),
      (e: unknown) => e instanceof KernelError && e.errno === 'EMFILE',
    );
    assert.throws(
      () => sys.poll([5], 10),
      (e: unknown) => e instanceof KernelError && e.errno === 'EINTR',
    );
  });
});
