/**
 * Faults of the simulated kernel and what the VFIO client and the CLI do about each: a device that
 * never becomes ready after a reset (the 60 s poll, in virtual time), one that comes back late, a
 * surprise removal in the middle of a reset, lock contention (EAGAIN, EBUSY) against the client's
 * bounded retry, the owning process dying mid-operation (its fds closed, close-time resets run), and
 * a group taken by another user between the plan and the reset.
 *
 * The CLI runs in-process; `setSimHook` hands it a kernel this file prepared (a fault armed, another
 * process holding a group, or one host kept up across two commands).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setSimHook } from '../../src/cli/context.ts';
import type { IoctlArg } from '../../src/kernel/syscalls.ts';
import type { Era } from '../../src/pci/era.ts';
import { SimKernel } from '../../src/sim/kernel.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { VFIO } from '../../src/uapi/ioctl.ts';
import { GroupSession } from '../../src/vfio/group-session.ts';
import { resetDevice } from '../../src/vfio/reset-device.ts';
import { runCli } from '../helpers/cli.ts';
import { caughtVfioError } from '../helpers/vfio-steps.ts';
import { figures } from './figures.ts';
import { ProcessKilled, SimProcess } from './process.ts';

const fig = figures('faults');
after(() => setSimHook(null));

type Example = 'qemu-rp25' | 'qemu-ppb' | 'qemu-rp' | 'm2g';
const boot = (example: Example, era: Era = '6.1') =>
  new SimKernel(loadTopologyFile(`examples/${example}.yaml`), { era });
const RP25 = '0000:01:00.0';

/** Injects a fault and counts it for the report. */
function inject(k: SimKernel, fault: Parameters<SimKernel['inject']>[0]): void {
  fig.add('faultsInjected');
  k.inject(fault);
}

/** A kernel with a group session holding `bdf` open (its open-time reset done). */
function opened(example: Example, bdf: string, era: Era = '6.1') {
  const k = boot(example, era);
  const s = new GroupSession(k);
  return { k, s, dev: s.openDevice(bdf) };
}

/** Every function's reset count, to tell what a call touched. */
const resets = (k: SimKernel) =>
  new Map(k.host.topology.functions.map((f) => [f.name, k.pci.state(f.name).resets]));
function touched(k: SimKernel, before: Map<string, number>): string[] {
  const now = resets(k);
  return [...now].filter(([n, r]) => before.get(n) !== r).map(([n]) => n);
}

/** The kernel is idle again: no fd, no open device, no group attached or open, no cdev bound. */
function assertIdle(k: SimKernel, why: string): void {
  const s = k.vfioState();
  assert.deepEqual(s.fds, [], `${why}: fds left`);
  for (const d of s.devices) assert.equal(d.openCount, 0, `${why}: ${d.bdf} still open`);
  for (const g of s.groups) assert.deepEqual([g.open, g.container], [false, null], `${why}: group ${g.id}`);
  fig.add('checks', 1 + s.devices.length + s.groups.length);
}

/**
 * Calls `before(request)` ahead of every ioctl the kernel's `sys` gets (the CLI's and the client's
 * alike), so a fault can be armed at the moment a given request arrives; returns a counter.
 */
function onIoctl(
  k: SimKernel,
  before: (request: number, fd: number) => void,
): { count: (r: number) => number } {
  const seen = new Map<number, number>();
  const ioctl = k.sys.ioctl.bind(k.sys);
  k.sys.ioctl = (fd: number, request: number, arg?: IoctlArg) => {
    seen.set(request, (seen.get(request) ?? 0) + 1);
    before(request, fd);
    return ioctl(fd, request, arg);
  };
  return { count: (r) => seen.get(r) ?? 0 };
}

/** Runs `fire` once, the first time the virtual clock has moved `atMs` past the moment `arm()` was called. */
function onClock(k: SimKernel, atMs: number, fire: () => void): { arm(): void } {
  let armedAt: number | null = null;
  const advance = k.clock.advance.bind(k.clock);
  k.clock.advance = (ms: number) => {
    advance(ms);
    if (armedAt !== null && k.clock.now() - armedAt >= atMs) {
      armedAt = null;
      fire();
    }
  };
  return {
    arm: () => {
      armedAt = k.clock.now();
    },
  };
}

/** The CLI on a kernel this test prepared (`setup` runs on the one the CLI boots, or replaces it). */
async function cli(setup: (booted: SimKernel) => SimKernel, ...argv: string[]) {
  setSimHook(setup);
  try {
    return await runCli(...argv);
  } finally {
    setSimHook(null);
  }
}
const jsonOf = (r: { stdout: string }) =>
  JSON.parse(r.stdout) as Record<string, unknown> & {
    error: Record<string, unknown> | null;
    timing: Record<string, number> | null;
  };

/** `reset RP25 --method function --yes` on qemu-rp25; `globals` go before the command (`--json`, `--era`). */
const resetRp25 = (setup: (booted: SimKernel) => SimKernel, ...globals: string[]) =>
  cli(
    setup,
    '--host',
    'sim:examples/qemu-rp25.yaml',
    ...globals,
    'reset',
    RP25,
    '--method',
    'function',
    '--yes',
  );

// ---------------------------------------------------------------------------------------------

describe('a device that never becomes ready after its reset (W1/W2: the 60 s poll)', () => {
  test('client: each listed method (pm, then bus) polls 65,535 ms and gives up with ENOTTY (M5 goes on after ENOTTY); reported as not ready', () => {
    const { k, s, dev } = opened('qemu-rp25', RP25);
    inject(k, { bdf: RP25, kind: 'readiness', readiness: { kind: 'never' } });
    const t0 = k.clock.now();
    const before = resets(k);
    const e = caughtVfioError(() => s.functionReset(dev));
    assert.equal(e.code, 'VFIO_RESET_E_NOT_READY', e.message);
    assert.equal(e.errno, 'ENOTTY');
    assert.match(e.message, /did not answer|not ready/);
    const took = k.clock.now() - t0;
    assert.ok(took >= 2 * 65535 && took < 2 * 70000, `${took} ms: two full polls`);
    assert.deepEqual(touched(k, before), [RP25], 'only the device itself was reset');
    const dmesg = k.log.dmesg();
    assert.ok(dmesg.some((l) => l.includes('not ready 65535ms after PM D3hot->D0; giving up')));
    assert.ok(
      dmesg.some((l) => l.includes('not ready 65535ms after bus reset; giving up')),
      dmesg.join('\n'),
    );
    s.close();
    assertIdle(k, 'after close');
  });

  test('client: a hot reset whose device never answers ends in ENOTTY (H9) after the wait, reported as not ready', () => {
    const { k, s, dev } = opened('qemu-rp25', RP25);
    inject(k, { bdf: RP25, kind: 'readiness', readiness: { kind: 'never' } });
    const t0 = k.clock.now();
    const e = caughtVfioError(() => s.hotReset(dev));
    assert.equal(e.code, 'VFIO_RESET_E_NOT_READY');
    assert.equal(e.rule, 'H9.ENOTTY');
    assert.ok(k.clock.now() - t0 >= 60000, 'the poll ran its 60 s');
    s.close();
    assertIdle(k, 'after close');
  });

  test('CLI: reset --yes exits 1 with "not ready", the code and the 65 s it took; JSON says the same', async () => {
    const arm = (k: SimKernel) => {
      onIoctl(k, (r) => {
        if (r === VFIO.DEVICE_RESET)
          inject(k, { bdf: RP25, kind: 'readiness', readiness: { kind: 'never' } });
      });
      return k;
    };
    const text = await resetRp25(arm);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /function reset refused .*(did not answer|not ready)/);
    assert.match(text.stdout, /code VFIO_RESET_E_NOT_READY, errno ENOTTY/);
    assert.match(text.stdout, /not ready 65535ms after PM D3hot->D0; giving up/);
    const doc = jsonOf(await resetRp25(arm, '--json'));
    assert.equal(doc.ok, false);
    assert.equal(doc.error?.code, 'VFIO_RESET_E_NOT_READY');
    assert.ok(Number(doc.durationMs) >= 65535);
    fig.add('cliRuns', 2);
  });
});

describe('a device that comes back late (W1: "not ready …; waiting", then "ready")', () => {
  test('client: a device ready 3 s after its reset makes the reset take ~4 s and succeed', () => {
    const { k, s, dev } = opened('qemu-rp25', RP25);
    inject(k, { bdf: RP25, kind: 'readiness', readiness: { kind: 'late', afterMs: 3000 } });
    const t0 = k.clock.now();
    s.functionReset(dev);
    const took = k.clock.now() - t0;
    assert.ok(took >= 3000 && took < 4500, `${took} ms`);
    assert.ok(k.log.dmesg().some((l) => /ready 4095ms after PM D3hot->D0$/.test(l)));
    s.close();
    assertIdle(k, 'after close');
  });

  test('client: later than the 60 s poll is the same as never', () => {
    const { k, s, dev } = opened('qemu-rp25', RP25);
    inject(k, { bdf: RP25, kind: 'readiness', readiness: { kind: 'late', afterMs: 70_000 } });
    assert.equal(caughtVfioError(() => s.functionReset(dev)).code, 'VFIO_RESET_E_NOT_READY');
    s.close();
  });

  test('CLI: reset --yes succeeds and shows the longer open and reset times and the kernel\'s "ready" line', async () => {
    const late = (k: SimKernel) => {
      inject(k, { bdf: RP25, kind: 'readiness', readiness: { kind: 'late', afterMs: 3000 } });
      return k;
    };
    const r = await resetRp25(late);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /function reset done in/);
    assert.match(r.stdout, /ready 4095ms after PM D3hot->D0/);
    const doc = jsonOf(await resetRp25(late, '--json'));
    assert.equal(doc.ok, true);
    // The kernel resets at open (O1) too, so the open waits as long as the reset.
    assert.ok(doc.timing!.openMs! >= 3000 && doc.timing!.resetMs! >= 3000, JSON.stringify(doc.timing));
    fig.add('cliRuns', 2);
  });
});

describe('surprise removal in the middle of a reset', () => {
  for (const era of ['6.1', '6.6+'] as const) {
    test(`client [${era}]: the reset ends in ENOTTY (6.1 polls the gone device 60 s, 6.6+ gives up at once, W3); nothing else is touched; the session still closes`, () => {
      const { k, s, dev } = opened('qemu-rp25', RP25, era);
      const clock = onClock(k, 5, () => inject(k, { bdf: RP25, kind: 'surprise-removal' }));
      const before = resets(k);
      const t0 = k.clock.now();
      clock.arm();
      const e = caughtVfioError(() => s.functionReset(dev));
      assert.equal(e.code, 'VFIO_RESET_E_NOT_READY');
      const took = k.clock.now() - t0;
      if (era === '6.1') assert.ok(took >= 60000, `${took} ms: 6.1 polls a removed device to the end`);
      else assert.ok(took < 1000, `${took} ms: 6.6+ does not wait for a disconnected device`);
      assert.ok(
        touched(k, before).every((n) => n === RP25),
        'nothing but the device',
      );
      assert.ok(k.log.all().some((e) => e.event.kind === 'hot-remove' && e.event.device === RP25));
      s.close();
      assertIdle(k, 'after close');
    });
  }

  test('client: removal of one function during a PPB hot reset — the other is reset, the gone one is not, the call succeeds', () => {
    const { k, s, dev } = opened('qemu-ppb', '0000:02:01.0');
    const clock = onClock(k, 1, () => inject(k, { bdf: '0000:02:01.1', kind: 'surprise-removal' }));
    const before = resets(k);
    clock.arm();
    s.hotReset(dev);
    assert.deepEqual(touched(k, before), ['0000:02:01.0']);
    s.close();
    assertIdle(k, 'after close');
  });

  test('CLI: reset --yes exits 1, naming the device that did not come back', async () => {
    const arm = (k: SimKernel) => {
      const clock = onClock(k, 5, () => inject(k, { bdf: RP25, kind: 'surprise-removal' }));
      onIoctl(k, (r) => {
        if (r === VFIO.DEVICE_RESET) clock.arm();
      });
      return k;
    };
    const r = await resetRp25(arm, '--era', '6.6+');
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`${RP25}: function reset refused`));
    assert.match(r.stdout, /VFIO_RESET_E_NOT_READY/);
    assert.equal(r.stderr, '');
    fig.add('cliRuns');
  });
});

describe('lock contention: EAGAIN (device lock, D3/H9) and EBUSY (memory lock, H8) against the bounded retry', () => {
  test('client: a device lock held throughout — 1 + busyRetries attempts, then VFIO_RESET_E_BUSY; nothing reset', () => {
    for (const busyRetries of [0, 3]) {
      const k = boot('qemu-rp25');
      const calls = onIoctl(k, () => {});
      const s = new GroupSession(k, { busyRetries });
      const dev = s.openDevice(RP25);
      inject(k, { bdf: RP25, kind: 'hold-device-lock', held: true });
      const before = resets(k);
      const e = caughtVfioError(() => s.functionReset(dev));
      assert.equal(e.code, 'VFIO_RESET_E_BUSY');
      assert.equal(e.errno, 'EAGAIN');
      assert.equal(calls.count(VFIO.DEVICE_RESET), 1 + busyRetries, 'bounded: no more attempts');
      assert.deepEqual(touched(k, before), []);
      inject(k, { bdf: RP25, kind: 'hold-device-lock', held: false });
      s.close();
      assertIdle(k, 'after close');
    }
  });

  test('client: the other thread lets go after two attempts — the third succeeds', () => {
    const { k, s, dev } = opened('qemu-rp25', RP25);
    inject(k, { bdf: RP25, kind: 'hold-device-lock', held: true });
    const calls = onIoctl(k, (r) => {
      if (r === VFIO.DEVICE_RESET && calls.count(r) === 3)
        inject(k, { bdf: RP25, kind: 'hold-device-lock', held: false });
    });
    s.functionReset(dev);
    assert.equal(calls.count(VFIO.DEVICE_RESET), 3);
    s.close();
  });

  test('client: a dev_set member’s memory lock (EBUSY, H8) on a PPB hot reset — bounded, then released', () => {
    const { k, s, dev } = opened('qemu-ppb', '0000:02:01.0');
    inject(k, { bdf: '0000:02:01.1', kind: 'hold-memory-lock', held: true });
    const calls = onIoctl(k, () => {});
    const e = caughtVfioError(() => s.hotReset(dev));
    assert.equal(e.code, 'VFIO_RESET_E_BUSY');
    assert.equal(e.rule, 'H8.memory');
    assert.equal(calls.count(VFIO.DEVICE_PCI_HOT_RESET), 4);
    const release = onIoctl(k, (r) => {
      if (r === VFIO.DEVICE_PCI_HOT_RESET && release.count(r) === 2)
        inject(k, { bdf: '0000:02:01.1', kind: 'hold-memory-lock', held: false });
    });
    s.hotReset(dev);
    assert.equal(release.count(VFIO.DEVICE_PCI_HOT_RESET), 2);
    s.close();
    assertIdle(k, 'after close');
  });

  test('client: contention at open (O1: the open-time reset takes a trylock) is retried the same way', () => {
    const k = boot('qemu-rp25');
    inject(k, { bdf: RP25, kind: 'hold-device-lock', held: true });
    const calls = onIoctl(k, () => {});
    const s = new GroupSession(k);
    const e = caughtVfioError(() => s.openDevice(RP25));
    assert.equal(e.code, 'VFIO_RESET_E_BUSY');
    assert.equal(e.rule, 'O1');
    assert.equal(calls.count(VFIO.GROUP_GET_DEVICE_FD), 4);
    const release = onIoctl(k, (r) => {
      if (r === VFIO.GROUP_GET_DEVICE_FD && release.count(r) === 2)
        inject(k, { bdf: RP25, kind: 'hold-device-lock', held: false });
    });
    s.openDevice(RP25);
    assert.equal(release.count(VFIO.GROUP_GET_DEVICE_FD), 2);
    s.close();
    assertIdle(k, 'after close');
  });

  test('CLI: held throughout → exit 1, VFIO_RESET_E_BUSY, "retried 3 times"; released after two → exit 0', async () => {
    const held = (release: number | null) => (k: SimKernel) => {
      const calls = onIoctl(k, (r) => {
        if (r !== VFIO.DEVICE_RESET) return;
        if (calls.count(r) === 1) inject(k, { bdf: RP25, kind: 'hold-device-lock', held: true });
        if (calls.count(r) === release) inject(k, { bdf: RP25, kind: 'hold-device-lock', held: false });
      });
      return k;
    };
    const busy = await resetRp25(held(null));
    assert.equal(busy.code, 1);
    assert.match(busy.stdout, /EAGAIN: another user holds a lock on a device in scope; retried 3 times/);
    assert.match(busy.stdout, /code VFIO_RESET_E_BUSY/);
    const ok = await resetRp25(held(3));
    assert.equal(ok.code, 0, ok.stdout);
    const atOpen = await resetRp25((k) => {
      inject(k, { bdf: RP25, kind: 'hold-device-lock', held: true });
      const calls = onIoctl(k, (r) => {
        if (r === VFIO.GROUP_GET_DEVICE_FD && calls.count(r) === 3)
          inject(k, { bdf: RP25, kind: 'hold-device-lock', held: false });
      });
      return k;
    });
    assert.equal(atOpen.code, 0, `contention at open, released on the third attempt: ${atOpen.stdout}`);
    fig.add('cliRuns', 2);
  });
});

describe('the owning process dies mid-operation: its fds are closed, close-time resets run', () => {
  /** Syscalls a full reset makes, counted on a process that is not killed. */
  function fullRun(example: Example, era: Era, bdf: string, method: 'hot' | 'function'): number {
    const k = boot(example, era);
    const p = new SimProcess(k, 'vmm');
    assert.equal(resetDevice(p.host, bdf, method).ok, true);
    return p.calls;
  }

  for (const [example, era, bdf, method] of [
    ['qemu-ppb', '6.1', '0000:02:01.0', 'hot'],
    ['qemu-ppb', '6.6+', '0000:02:01.0', 'hot'],
    ['qemu-ppb', '2013', '0000:02:01.0', 'hot'],
    ['qemu-rp25', '6.1', RP25, 'function'],
  ] as const) {
    test(`client [${example} ${era}, ${method}]: killed at every syscall of a reset, the kernel ends idle and a new process resets`, () => {
      const total = fullRun(example, era, bdf, method);
      assert.ok(total > 5, `${total} syscalls`);
      for (let killAt = 0; killAt < total; killAt++) {
        const k = boot(example, era);
        const p = new SimProcess(k, 'vmm');
        p.killAt = killAt;
        const mark = k.log.length;
        assert.throws(() => resetDevice(p.host, bdf, method), ProcessKilled);
        const why = `killed before syscall ${killAt}`;
        assertIdle(k, why);
        // A device it had opened was closed by the kernel: close-time resets ran (O3/O4; [2013] O5).
        // [2013] O5 had no dev_set reset: a device without a working function reset is left as it is.
        const closeReset = k.log
          .since(mark)
          .some((e) => e.event.kind === 'function-reset' || e.event.kind === 'bus-reset');
        for (const d of k.vfioState().devices)
          if (d.resetWorks === true || (d.resetWorks === false && era !== '2013'))
            assert.ok(closeReset, `${why}: ${d.bdf} was opened, no close-time reset`);
        if (era !== '2013')
          for (const d of k.vfioState().devices)
            if (d.resetWorks !== null)
              assert.equal(d.needsReset, false, `${why}: ${d.bdf} left needing a reset`);
        const next = new SimProcess(k, 'next');
        assert.equal(resetDevice(next.host, bdf, method).ok, true, `${why}: the next process cannot reset`);
        next.exit();
        assertIdle(k, `${why}, then the next process`);
        fig.add('killPoints');
      }
    });
  }

  /** Routes the kernel's syscalls through a process (as the CLI makes them), killed at `killAt`. */
  function asProcess(k: SimKernel, killAt: number | null): { proc: SimProcess; restore(): void } {
    const original = { ...k.sys };
    const proc = new SimProcess(k, 'cli');
    proc.killAt = killAt;
    const { open, close, ioctl, writeSysfs } = proc.sys;
    Object.assign(k.sys, { open, close, ioctl, writeSysfs });
    return { proc, restore: () => Object.assign(k.sys, original) };
  }

  test('CLI: killed at any syscall, the host stays usable — once the kernel closed its fds, the next reset --yes succeeds', async () => {
    const k = boot('qemu-ppb');
    const argv = [
      '--host',
      'sim:examples/qemu-ppb.yaml',
      'reset',
      '0000:02:01.0',
      '--method',
      'hot',
      '--yes',
    ];
    const whole = asProcess(k, null);
    assert.equal((await cli(() => k, ...argv)).code, 0);
    whole.restore();
    const total = whole.proc.calls;
    assert.ok(total > 5, `${total} syscalls`);
    for (let killAt = 0; killAt < total; killAt++) {
      const run = asProcess(k, killAt);
      const r = await cli(() => k, ...argv);
      run.restore();
      assert.equal(r.code, 1, `killed at ${killAt}: exit status`);
      assert.equal(run.proc.alive, false, `killed at ${killAt}`);
      assertIdle(k, `CLI killed at ${killAt}`);
      assert.equal((await cli(() => k, ...argv)).code, 0, `killed at ${killAt}: the next reset --yes`);
      fig.add('killPoints');
      fig.add('cliRuns', 2);
    }
  });
});

describe('a group taken by another user between the plan and the reset', () => {
  test('client: another process opens the device’s group after the plan — GROUP_BUSY naming device, driver and group; nothing touched', () => {
    const k = boot('qemu-rp25');
    const other = new SimProcess(k, 'other-vmm');
    const group = k.host.groups.groupOf(RP25)!;
    other.sys.open(`/dev/vfio/${group}`);
    const before = resets(k);
    const me = new SimProcess(k, 'me');
    const r = resetDevice(me.host, RP25, 'hot');
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, 'VFIO_RESET_E_GROUP_BUSY');
    assert.equal(r.error?.rule, 'G2');
    assert.deepEqual(r.error?.blocker, { bdf: RP25, driver: 'vfio-pci', group });
    assert.deepEqual(touched(k, before), []);
    assert.deepEqual([...me.fds], [], 'the client closed what it had opened');
    other.exit();
    assertIdle(k, 'after both');
  });

  test('client: another process holds the other group of an M-2G bus — NOT_OWNED naming that function', () => {
    const k = boot('m2g');
    const other = new SimProcess(k, 'other-vmm');
    const g1 = k.host.groups.groupOf('0000:01:00.1')!;
    other.sys.open(`/dev/vfio/${g1}`);
    const r = resetDevice(new SimProcess(k, 'me').host, '0000:01:00.0', 'hot', undefined, 'group');
    assert.equal(r.error?.code, 'VFIO_RESET_E_NOT_OWNED');
    assert.deepEqual(r.error?.blocker, { bdf: '0000:01:00.1', driver: 'vfio-pci', group: g1 });
    assert.match(r.error!.message, /another process holds open/);
    other.exit();
    assertIdle(k, 'after both');
  });

  test('client [6.6+]: another user binds the other function to its own iommufd — the cdev hot reset is refused, naming it', () => {
    const k = boot('m2g', '6.6+');
    const other = new SimProcess(k, 'other-vmm');
    const ctx = other.sys.open('/dev/iommu');
    const idx = k.vfioState().devices.find((d) => d.bdf === '0000:01:00.1')!.index;
    const cdev = other.sys.open(`/dev/vfio/devices/vfio${idx}`);
    const bind = new Uint8Array(16);
    new DataView(bind.buffer).setUint32(0, 16, true);
    new DataView(bind.buffer).setInt32(8, ctx, true);
    other.sys.ioctl(cdev, VFIO.DEVICE_BIND_IOMMUFD, bind);
    const before = resets(k);
    const r = resetDevice(new SimProcess(k, 'me').host, '0000:01:00.0', 'hot', undefined, 'cdev');
    assert.equal(r.ok, false);
    assert.ok(['VFIO_RESET_E_NOT_OWNED', 'VFIO_RESET_E_NOT_VIABLE'].includes(r.error!.code), r.error!.code);
    assert.match(r.error!.message, /0000:01:00\.1/);
    // Opening 01:00.0 reset it (O1: its own device); the other user's function is never touched.
    assert.ok(!touched(k, before).includes('0000:01:00.1'));
    other.exit();
    assertIdle(k, 'after both');
  });

  test('CLI: the plan (dry run) passes; another process then takes the group; reset --yes exits 1 naming group and device', async () => {
    const k = boot('qemu-rp25');
    const keep = () => k;
    const argv = ['--host', 'sim:examples/qemu-rp25.yaml', 'reset', RP25, '--method', 'hot'];
    const plan = await cli(keep, ...argv);
    assert.equal(plan.code, 0);
    assert.match(plan.stdout, /dry run/);
    assert.doesNotMatch(plan.stdout, /would stop it/);
    const other = new SimProcess(k, 'other-vmm');
    const group = k.host.groups.groupOf(RP25)!;
    other.sys.open(`/dev/vfio/${group}`);
    const r = await cli(keep, ...argv, '--yes');
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`IOMMU group ${group} is already open in another process`));
    assert.match(r.stdout, /code VFIO_RESET_E_GROUP_BUSY, errno EBUSY \(kernel rule G2\)/);
    const doc = jsonOf(await cli(keep, '--json', ...argv, '--yes'));
    assert.equal(doc.error?.code, 'VFIO_RESET_E_GROUP_BUSY');
    other.exit();
    assertIdle(k, 'after both');
    fig.add('cliRuns', 3);
  });
});
