/**
 * The real Syscalls on harmless targets only: a FIFO this test creates, /dev/null, temp-dir
 * sysfs fixtures and one read-only kernel attribute (whose open fails before any store). No
 * VFIO device of this machine is ever opened. ioctl tests skip when koffi is not usable.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { KernelError } from '../../src/kernel/syscalls.ts';
import { openLinuxHost } from '../../src/linux/host.ts';
import { FfiUnavailableError, ffiStatus, ioctl, type RawIoctl } from '../../src/linux/ioctl.ts';
import { LinuxSyscalls } from '../../src/linux/syscalls.ts';
import { ERRNO } from '../../src/uapi/errno.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';

// asm-generic/ioctls.h: the same numbers on x86-64 and arm64.
const FIONREAD = 0x541b;
const TIOCGWINSZ = 0x5413;
const FIOCLEX = 0x5451;

const ffi = ffiStatus();
const skipFfi = ffi.ok
  ? false
  : `koffi is not usable here (${ffi.reason}); install it to run the ioctl tests`;
if (!ffi.ok) console.log(`# skipping koffi ioctl tests: ${ffi.reason}`);

const tmp = mkdtempSync(join(tmpdir(), 'vfio-reset-linux-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function isKernelError(errno: string, ...mentions: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof KernelError, `expected a KernelError, got ${String(e)}`);
    assert.equal(e.errno, errno, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention ${m}`);
    return true;
  };
}

/** Runs `f` with fds that are closed afterwards whatever happens. */
function withFds(sys: LinuxSyscalls, f: (open: (path: string) => number) => void): void {
  const fds: number[] = [];
  try {
    f((path) => {
      const fd = sys.open(path);
      fds.push(fd);
      return fd;
    });
  } finally {
    for (const fd of fds) sys.close(fd);
  }
}

describe('ioctl through koffi', { skip: skipFfi }, () => {
  const sys = new LinuxSyscalls();

  test('FIONREAD on a FIFO writes the byte count into the buffer, in place at its byteOffset', () => {
    const fifo = join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // O_RDWR on a FIFO (Linux) opens both ends without blocking.
    withFds(sys, (open) => {
      const fd = open(fifo);
      writeFileSync(fd, 'hello');
      const mem = new Uint8Array(12).fill(0xee);
      const count = mem.subarray(4, 8);
      assert.equal(sys.ioctl(fd, FIONREAD, count), 0);
      assert.equal(new DataView(count.buffer, count.byteOffset, 4).getInt32(0, true), 5);
      assert.deepEqual(
        [...mem.subarray(0, 4), ...mem.subarray(8)],
        Array(8).fill(0xee),
        'no byte outside the view',
      );
    });
  });

  test('an integer argument is passed by value (FIOCLEX on our own FIFO fd)', () => {
    const fifo = join(tmp, 'fifo2');
    execFileSync('mkfifo', [fifo]);
    withFds(sys, (open) => assert.equal(sys.ioctl(open(fifo), FIOCLEX, 0), 0));
  });

  test('TIOCGWINSZ on /dev/null is ENOTTY and leaves the buffer alone', () => {
    withFds(sys, (open) => {
      const buf = new Uint8Array(8).fill(7);
      assert.throws(
        () => sys.ioctl(open('/dev/null'), TIOCGWINSZ, buf),
        isKernelError('ENOTTY', 'ioctl 0x5413'),
      );
      assert.deepEqual([...buf], Array(8).fill(7));
    });
  });

  test('VFIO requests on /dev/null are ENOTTY, named in the error', () => {
    withFds(sys, (open) => {
      const fd = open('/dev/null');
      assert.throws(() => sys.ioctl(fd, VFIO.DEVICE_RESET), isKernelError('ENOTTY', 'VFIO_DEVICE_RESET'));
      assert.throws(
        () => sys.ioctl(fd, VFIO.DEVICE_GET_PCI_HOT_RESET_INFO, new Uint8Array(12)),
        isKernelError('ENOTTY', 'VFIO_DEVICE_GET_PCI_HOT_RESET_INFO'),
      );
      assert.throws(() => sys.ioctl(fd, VFIO.CHECK_EXTENSION, 3), isKernelError('ENOTTY'));
    });
  });

  test('ioctl on a closed fd is EBADF', () => {
    const fd = sys.open('/dev/null');
    sys.close(fd);
    assert.throws(() => ioctl(fd, TIOCGWINSZ, new Uint8Array(8)), isKernelError('EBADF', `fd ${fd}`));
  });
});

test('without koffi, the first ioctl says what to install (VFIO_RESET_E_NO_FFI)', {
  skip: ffi.ok ? 'koffi is installed' : false,
}, () => {
  const sys = new LinuxSyscalls();
  withFds(sys, (open) => {
    assert.throws(
      () => sys.ioctl(open('/dev/null'), TIOCGWINSZ, new Uint8Array(8)),
      (e: unknown) =>
        e instanceof FfiUnavailableError &&
        e.code === 'VFIO_RESET_E_NO_FFI' &&
        /npm install koffi/.test(e.message),
    );
  });
});

describe('ioctl errno mapping (injected raw ioctl, no koffi needed)', () => {
  const calls: [number, number, Uint8Array | number][] = [];
  const raw: RawIoctl = (fd, request, arg) => {
    calls.push([fd, request, arg]);
    return request === VFIO.DEVICE_PCI_HOT_RESET ? -ERRNO.EBUSY : request === 0x1234 ? -200 : 42;
  };
  const sys = new LinuxSyscalls({ rawIoctl: raw });

  test('-errno becomes KernelError with its name; unknown numbers keep theirs; rc passes through', () => {
    assert.equal(sys.ioctl(3, VFIO.GET_API_VERSION), 42);
    assert.throws(
      () => sys.ioctl(3, VFIO.DEVICE_PCI_HOT_RESET, new Uint8Array(12)),
      isKernelError('EBUSY', 'VFIO_DEVICE_PCI_HOT_RESET', 'fd 3'),
    );
    assert.throws(() => sys.ioctl(3, 0x1234), isKernelError('E200'));
  });

  test('requests are unsigned 32-bit, an absent argument is 0, bad arguments are caught before the call', () => {
    calls.length = 0;
    const ior = 0x80045430; // _IOR('T', 0x30, int): the direction bit makes it negative as an int32
    sys.ioctl(3, ior | 0);
    sys.ioctl(3, VFIO.DEVICE_RESET);
    assert.deepEqual(calls, [
      [3, ior, 0],
      [3, VFIO.DEVICE_RESET, 0],
    ]);
    assert.throws(() => sys.ioctl(3, 2 ** 32), RangeError);
    assert.throws(() => sys.ioctl(3, 1.5), RangeError);
    assert.throws(() => sys.ioctl(3, VFIO.SET_IOMMU, -1), RangeError);
    assert.throws(() => sys.ioctl(2 ** 31, VFIO.SET_IOMMU, 1), RangeError);
    assert.equal(calls.length, 2);
  });
});

describe('open and close', () => {
  const sys = new LinuxSyscalls();

  test('open of a missing path is ENOENT naming the path', () => {
    const p = join(tmp, 'no/such/node');
    assert.throws(() => sys.open(p), isKernelError('ENOENT', p));
  });

  test('open is read-write: a directory is EISDIR', () => {
    assert.throws(() => sys.open(tmp), isKernelError('EISDIR', tmp));
  });

  test('close of a bad fd is EBADF, also twice and for negative numbers', () => {
    const fd = sys.open('/dev/null');
    sys.close(fd);
    assert.throws(() => sys.close(fd), isKernelError('EBADF', `fd ${fd}`));
    assert.throws(() => sys.close(-1), isKernelError('EBADF'));
    assert.throws(() => sys.close(1 << 30), isKernelError('EBADF'));
  });
});

describe('writeSysfs', () => {
  const root = join(tmp, 'sys');
  const dev = join(root, 'bus/pci/devices/0000:01:00.0');
  mkdirSync(dev, { recursive: true });
  writeFileSync(join(dev, 'driver_override'), '(null)\n');
  writeFileSync(join(dev, 'vendor'), '0x8086\n');
  const sys = new LinuxSyscalls({ sysfsRoot: root });

  test('writes the value to the attribute under the root, replacing what was there', () => {
    sys.writeSysfs('bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci');
    assert.equal(readFileSync(join(dev, 'driver_override'), 'utf8'), 'vfio-pci');
    sys.writeSysfs('/sys/bus/pci/devices/0000:01:00.0/driver_override', '\n');
    assert.equal(readFileSync(join(dev, 'driver_override'), 'utf8'), '\n');
  });

  test('a missing attribute is ENOENT naming the path, and is not created', () => {
    const p = 'bus/pci/devices/0000:01:00.0/reset_method';
    assert.throws(() => sys.writeSysfs(p, 'flr'), isKernelError('ENOENT', p, join(root, p)));
    assert.equal(existsSync(join(root, p)), false);
  });

  test('`..` cannot leave the sysfs root', () => {
    assert.throws(
      () => sys.writeSysfs('../../../../etc/passwd', 'x'),
      isKernelError('ENOENT', join(root, 'etc/passwd')),
    );
  });

  test('a read-only attribute is EACCES/EROFS naming the path', (t) => {
    if (process.geteuid?.() !== 0) {
      chmodSync(join(dev, 'vendor'), 0o444);
      const p = 'bus/pci/devices/0000:01:00.0/vendor';
      assert.throws(
        () => sys.writeSysfs(p, '0x10de'),
        (e: unknown) =>
          e instanceof KernelError && ['EACCES', 'EROFS'].includes(e.errno) && e.message.includes(p),
      );
      return;
    }
    // Root passes a fixture's mode bits; a real read-only sysfs attribute refuses the open
    // itself (kernfs: no store method), so nothing is written.
    const attr = 'kernel/uevent_seqnum';
    if (!existsSync(join('/sys', attr)))
      return t.skip('running as root and /sys/kernel/uevent_seqnum is absent');
    const real = new LinuxSyscalls();
    assert.throws(
      () => real.writeSysfs(attr, '0'),
      (e: unknown) =>
        e instanceof KernelError &&
        ['EACCES', 'EROFS'].includes(e.errno) &&
        e.message.includes(`/sys/${attr}`),
    );
  });

  test('openLinuxHost reads and writes under one root', () => {
    const host = openLinuxHost(root);
    assert.equal(host.sysfs.readText('bus/pci/devices/0000:01:00.0/vendor'), '0x8086\n');
    host.sys.writeSysfs('bus/pci/devices/0000:01:00.0/driver_override', 'vfio-pci\n');
    assert.equal(host.sysfs.readText('bus/pci/devices/0000:01:00.0/driver_override'), 'vfio-pci\n');
  });
});
