import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CAP_ID, findCapability, HDR, PM_REG } from '../../src/pci/config-space.ts';
import type { Era } from '../../src/pci/era.ts';
import type { HostDesc, PcieCap } from '../../src/pci/model.ts';
import { BARE_METAL, type ClockModel, QEMU_GUEST, SimClock } from '../../src/sim/clock.ts';
import { SimHost } from '../../src/sim/host.ts';
import { type KernelEvent, KernelLog } from '../../src/sim/log.ts';
import { SimDeadlockError, SimPciCore } from '../../src/sim/pci-exec.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import {
  conventional,
  endpoint,
  host,
  hostBridge,
  pciBridge,
  pcieToPciBridge,
  rootPort,
} from '../helpers/builders.ts';

/** No jiffy rounding, no guest overshoot, free config accesses: durations equal the kernel's nominal sleeps. */
const EXACT: ClockModel = {
  hz: 1000,
  extraMs: 0,
  rounding: 'min',
  configAccessMs: 0,
  conventionalConfigMs: 0,
};

const RP_E1000E = '0000:01:00.0';
const RP = '0000:00:02.0';
const NVME = '0000:03:00.0';
const PPB0 = '0000:02:01.0';
const PPB1 = '0000:02:01.1';

function sim(desc: HostDesc | string, era: Era = '6.1', model: ClockModel = QEMU_GUEST) {
  const d = typeof desc === 'string' ? loadTopologyFile(`examples/${desc}.yaml`) : desc;
  const host = new SimHost(d, { era });
  const clock = new SimClock(model);
  const log = new KernelLog(() => clock.now());
  const core = new SimPciCore(host, clock, log);
  return { host, clock, log, core };
}

/** A rig topology with one function's description changed. */
function edited(file: string, bdf: string, edit: (d: HostDesc['functions'][number]) => void): HostDesc {
  const desc = loadTopologyFile(`examples/${file}.yaml`);
  const f = desc.functions.find((x) => `0000:${hex2(x.bdf.bus)}:${hex2(x.bdf.device)}.${x.bdf.fn}` === bdf);
  assert.ok(f, `${bdf} in ${file}`);
  edit(f);
  return desc;
}
const hex2 = (n: number) => n.toString(16).padStart(2, '0');

const GEN4_LINK: Partial<PcieCap> = { linkSpeedCode: 4, linkSpeedsVector: 0b1111, dllActiveReporting: true };

function within(actual: number, expected: number, tolerance = 0.1): void {
  assert.ok(
    Math.abs(actual - expected) <= expected * tolerance,
    `${actual} ms is not within ±${tolerance * 100}% of ${expected} ms`,
  );
}

function events<K extends KernelEvent['kind']>(log: KernelLog, kind: K): Extract<KernelEvent, { kind: K }>[] {
  return log
    .all()
    .map((e) => e.event)
    .filter((e): e is Extract<KernelEvent, { kind: K }> => e.kind === kind);
}

const texts = (log: KernelLog) => log.dmesg().map((l) => l.replace(/^\[[ .\d]+\] /, ''));

// ---------------------------------------------------------------------------------------------
// The rig's measurements (kernel-rig.md, §9) with the calibrated guest clock

test('WB6/§9.1: RP bus reset (16 GT/s ACPI-hotplug root port, DLLLA never set) → ENOTTY after ≈ 2.05 s', () => {
  const { core, log } = sim('qemu-rp');
  const r = core.resetBus(RP_E1000E);
  assert.equal(r.errno, 'ENOTTY');
  assert.equal(r.kind, 'bus', 'acpiphp slot cannot reset: bus reset of the root port');
  assert.equal(r.bridge, RP);
  assert.deepEqual(r.affected, [RP_E1000E]);
  within(r.durationMs, 2050);
  assert.ok(texts(log).includes(`pci ${RP}: Data Link Layer Link Active not set in 1000 msec`));
  assert.deepEqual(events(log, 'bus-reset'), [
    { kind: 'bus-reset', bridge: RP, scope: [RP_E1000E], result: 'ENOTTY' },
  ]);
});

test('X3: after the failed RP bus reset the e1000e was really reset and its config restored', () => {
  const { core } = sim('qemu-rp');
  const st = core.state(RP_E1000E);
  st.config[HDR.command] = 0x06; // memory + bus master, as a user left it
  st.config[0x10] = 0x00;
  st.config[0x11] = 0x10;
  st.config[0x12] = 0xfe;
  st.config[0x13] = 0xfe; // BAR0 = 0xfefe1000
  const before = st.config.slice();
  core.inject(RP_E1000E, { kind: 'dirty', value: 42 });
  const r = core.resetBus(RP_E1000E);
  assert.equal(r.errno, 'ENOTTY');
  assert.deepEqual(
    core.state(RP_E1000E).config,
    before,
    'config restored (pci_bus_restore_locked runs anyway)',
  );
  assert.equal(core.state(RP_E1000E).internalState, 0, 'the device went through the SBR');
  assert.equal(core.state(RP_E1000E).resets, 1);
  assert.equal(core.state(RP_E1000E).lastReset?.how, 'bus');
});

test('WB6/§9.2: SW nvme behind xio3130 (speed unknown, no DLLLARC) → 0 after ≈ 1.14 s', () => {
  const { core } = sim('qemu-sw');
  const r = core.resetBus(NVME);
  assert.equal(r.errno, 0);
  assert.equal(r.bridge, '0000:02:00.0');
  assert.deepEqual(r.affected, [NVME]);
  within(r.durationMs, 1140);
});

test('WB2/§9.3: PPB bus reset of two e1000 (no PM capability) → 0 after ≈ 13 ms (rig: 13.5–15.6 with 3 ms of userspace)', () => {
  const { core } = sim('qemu-ppb');
  const r = core.resetBus(PPB0);
  assert.equal(r.errno, 0);
  assert.equal(r.bridge, '0000:01:00.0');
  assert.deepEqual(r.affected, [PPB0, PPB1]);
  within(r.durationMs, 13.2);
});

test('T7: nvme FLR through resetFunction (VFIO_DEVICE_RESET) ≈ 107 ms', () => {
  const { core, log } = sim('qemu-sw');
  const r = core.resetFunction(NVME, 'try');
  assert.deepEqual({ errno: r.errno, method: r.method, via: r.via }, { errno: 0, method: 'flr', via: null });
  within(r.durationMs, 107);
  assert.equal(core.state(NVME).lastReset?.how, 'flr');
  assert.deepEqual(events(log, 'function-reset'), [
    { kind: 'function-reset', device: NVME, method: 'flr', result: '0' },
  ]);
});

test('WB6 (kernel-rig.md): two e1000e functions behind the default 16 GT/s root port → ENOTTY after ≈ 2.07 s', () => {
  const desc = edited('qemu-mf', RP, (d) => Object.assign(d.pcie!, GEN4_LINK));
  const { core } = sim(desc);
  const r = core.resetBus(RP_E1000E);
  assert.equal(r.errno, 'ENOTTY');
  assert.deepEqual(r.affected, [RP_E1000E, '0000:01:00.1']);
  within(r.durationMs, 2070);
});

test('WB5/PH2/§9.1.4: RP25 (≤ 5 GT/s) bus reset ≈ 0.11 s and RPN (pciehp) slot reset ≈ 0.13 s, bare-metal predictions', () => {
  const rp25 = sim('qemu-rp25', '6.1', BARE_METAL).core.resetBus(RP_E1000E);
  const rpn = sim('qemu-rpn', '6.1', BARE_METAL).core.resetBus(RP_E1000E);
  assert.deepEqual([rp25.errno, rp25.kind, rpn.errno, rpn.kind], [0, 'bus', 0, 'slot']);
  within(rp25.durationMs, 110);
  within(rpn.durationMs, 130);
  // The guest's extra tick per sleep (calibrated on the three measured runs) makes them longer.
  const g25 = sim('qemu-rp25').core.resetBus(RP_E1000E);
  const gn = sim('qemu-rpn').core.resetBus(RP_E1000E);
  assert.ok(g25.durationMs > rp25.durationMs && gn.durationMs > rpn.durationMs);
  within(g25.durationMs, 110, 0.2);
  within(gn.durationMs, 130, 0.2);
});

test('WB6/§9.1.5 [6.6+]: RP → ENOTTY after ≈ 1.03 s (jiffies-based poll); the log prints the delay', () => {
  const { core, log } = sim('qemu-rp', '6.6+');
  const r = core.resetBus(RP_E1000E);
  assert.equal(r.errno, 'ENOTTY');
  within(r.durationMs, 1030);
  assert.ok(texts(log).includes(`pci ${RP}: Data Link Layer Link Active not set in 100 msec`));
  // §10.5 #40: vfio-pci has no reset_prepare/reset_done, so recent kernels warn around the reset.
  assert.ok(texts(log).includes(`vfio-pci ${RP_E1000E}: resetting`));
  assert.ok(texts(log).includes(`vfio-pci ${RP_E1000E}: reset done`));
});

test('X4/T2 [2013]: the RP bus reset succeeds after msleep(2) + ssleep(1), without a link check', () => {
  const { core, log } = sim('qemu-rp', '2013');
  const r = core.resetBus(RP_E1000E);
  assert.equal(r.errno, 0);
  within(r.durationMs, 1000, 0.05);
  assert.equal(texts(log).length, 0);
  assert.equal(sim('qemu-rp', '2013', EXACT).core.resetBus(RP_E1000E).durationMs, 1002);
});

// ---------------------------------------------------------------------------------------------
// §7.2 WB1–WB7 with nominal sleeps

test('WB2: no PM capability on the secondary bus → delay 0 → nothing after the 2 ms SBR', () => {
  assert.equal(sim('qemu-ppb', '6.1', EXACT).core.resetBus(PPB0).durationMs, 2);
});

test('WB3: a conventional bridge with a PM-capable device sleeps 1000 + 100 ms and polls nothing', () => {
  const desc = host([
    hostBridge(),
    pciBridge('00:1e.0', 1),
    conventional('01:00.0', { pm: { noSoftReset: false } }),
  ]);
  const { core } = sim(desc, '6.1', EXACT);
  core.inject('0000:01:00.0', { kind: 'readiness', readiness: { kind: 'never' } });
  const r = core.resetBus('0000:01:00.0');
  assert.equal(r.errno, 0, 'no readiness check behind a conventional bridge');
  assert.equal(r.durationMs, 2 + 1100);
});

test('WB4: a PCIe→PCI bridge is not a downstream port: no wait even with PM-capable devices', () => {
  const desc = host([
    hostBridge(),
    pcieToPciBridge('00:03.0', 1),
    conventional('01:00.0', { pm: { noSoftReset: false } }),
  ]);
  const r = sim(desc, '6.1', EXACT).core.resetBus('0000:01:00.0');
  assert.deepEqual([r.errno, r.durationMs], [0, 2]);
});

test('WB5 [6.1]: ≤ 5 GT/s port: msleep(delay), then pci_dev_wait(first child, 60000 − delay)', () => {
  const { core } = sim('qemu-rp25', '6.1', EXACT);
  core.inject(RP_E1000E, { kind: 'readiness', readiness: { kind: 'late', afterMs: 500 } });
  const r = core.resetBus(RP_E1000E);
  // Out of reset at 2 ms; polled from 100 ms after that, sleeping 1, 2, …, 256 ms (511 ms).
  assert.deepEqual([r.errno, r.durationMs], [0, 2 + 100 + 511]);

  const never = sim('qemu-rp25', '6.1', EXACT);
  never.core.inject(RP_E1000E, { kind: 'readiness', readiness: { kind: 'never' } });
  const n = never.core.resetBus(RP_E1000E);
  assert.deepEqual([n.errno, n.durationMs], ['ENOTTY', 2 + 100 + 65535]);
  assert.ok(texts(never.log).includes(`pci ${RP_E1000E}: not ready 65535ms after bus reset; giving up`));
});

test('WB5 [6.6+]: ≤ 5 GT/s port without link-active reporting gives up after pci_dev_wait(child, 1000 − delay)', () => {
  const { core, log } = sim('qemu-rp25', '6.6+', EXACT);
  core.inject(RP_E1000E, { kind: 'readiness', readiness: { kind: 'never' } });
  const r = core.resetBus(RP_E1000E);
  assert.deepEqual([r.errno, r.durationMs], ['ENOTTY', 2 + 100 + 1023]);
  assert.ok(texts(log).includes(`pci ${RP_E1000E}: not ready 1023ms after bus reset; giving up`));
});

test('WB6: DLLLA comes back → msleep(20), first read sees it, msleep(delay), pci_dev_wait', () => {
  const { core } = sim('qemu-rp', '6.1', EXACT);
  core.inject(RP, { kind: 'link-after-reset', up: true });
  const r = core.resetBus(RP_E1000E);
  assert.deepEqual([r.errno, r.durationMs], [0, 2 + 20 + 100]);
  const lnksta = findCapability(core.state(RP).config, CAP_ID.exp)! + 18;
  assert.ok(core.state(RP).config[lnksta + 1]! & 0x20, 'LNKSTA.DLLLA reads set after the reset');
});

test('WB6: DLLLA never comes back → [6.1] 100 × msleep(10) after msleep(20); [6.6+] 1000 ms of msleep(1) polls', () => {
  for (const era of ['6.1', '6.6+'] as const) {
    const r = sim('qemu-rp', era, EXACT).core.resetBus(RP_E1000E);
    assert.deepEqual([era, r.errno, r.durationMs], [era, 'ENOTTY', 2 + 20 + 1000]);
  }
  // HZ=250 bare metal: each msleep(10) is 4 ticks — the 1.25–1.65 s range of §9.1.3.
  const bare = sim('qemu-rp', '6.1', BARE_METAL).core.resetBus(RP_E1000E);
  assert.ok(bare.durationMs >= 1250 && bare.durationMs <= 1650, `${bare.durationMs}`);
});

test('WB6: a fast port without link-active reporting waits 1000 + delay blindly, then polls the child', () => {
  const desc = edited('qemu-rp', RP, (d) => Object.assign(d.pcie!, { dllActiveReporting: false }));
  const { core } = sim(desc, '6.1', EXACT);
  core.inject(RP_E1000E, { kind: 'readiness', readiness: { kind: 'late', afterMs: 1200 } });
  const r = core.resetBus(RP_E1000E);
  // Polled from 1100 ms after reset: sleeps 1 … 64 (127 ms) reach 1227 ≥ 1200.
  assert.deepEqual([r.errno, r.durationMs], [0, 2 + 1100 + 127]);
});

test('WB7: only the first device on the secondary bus is polled', () => {
  const second = sim('qemu-mf', '6.1', EXACT);
  second.core.inject('0000:01:00.1', { kind: 'readiness', readiness: { kind: 'never' } });
  const r = second.core.resetBus(RP_E1000E);
  assert.deepEqual([r.errno, r.durationMs], [0, 102]);
  const first = sim('qemu-mf', '6.1', EXACT);
  first.core.inject(RP_E1000E, { kind: 'readiness', readiness: { kind: 'never' } });
  assert.equal(first.core.resetBus('0000:01:00.1').errno, 'ENOTTY');
});

test('T5: the restore waits for the secondary bus of every bridge inside the scope', () => {
  // Hot reset at the switch's upstream level: the SBR on the root port needs no wait (no PM
  // capability on bus 01), but restoring the downstream port waits 1000 + 100 ms for the nvme.
  const { core } = sim('qemu-sw', '6.1', EXACT);
  const r = core.resetBus('0000:01:00.0');
  assert.equal(r.errno, 0);
  assert.deepEqual(r.affected, ['0000:01:00.0', '0000:02:00.0', NVME]);
  assert.equal(r.durationMs, 2 + 1100);
  assert.equal(core.state(NVME).resets, 1);
});

// ---------------------------------------------------------------------------------------------
// pci_dev_wait (W1–W3)

test('W1/W2: a device that never answers: FLR gives up after 65535 ms of doubling sleeps', () => {
  const { core, host, log } = sim('qemu-sw', '6.1', EXACT);
  host.state(NVME)!.resetMethods = ['flr'];
  core.inject(NVME, { kind: 'readiness', readiness: { kind: 'never' } });
  const r = core.resetFunction(NVME, 'try');
  assert.deepEqual([r.errno, r.method, r.durationMs], ['ENOTTY', null, 100 + 65535]);
  const t = texts(log);
  assert.ok(t.includes(`pci ${NVME}: not ready 1023ms after FLR; waiting`));
  assert.ok(t.includes(`pci ${NVME}: not ready 32767ms after FLR; waiting`));
  assert.equal(t.at(-1), `pci ${NVME}: not ready 65535ms after FLR; giving up`);
  // With the guest clock every one of the 16 sleeps overshoots a little: still ≈ 65.5 s.
  const guest = sim('qemu-sw');
  guest.host.state(NVME)!.resetMethods = ['flr'];
  guest.core.inject(NVME, { kind: 'readiness', readiness: { kind: 'never' } });
  const g = guest.core.resetFunction(NVME, 'try').durationMs;
  assert.ok(g > 65_535 && g < 66_500, `${g}`);
});

test('M5: an FLR that times out says ENOTTY, so the next method ("bus") is tried too', () => {
  const { core, log } = sim('qemu-sw', '6.1', EXACT);
  core.inject(NVME, { kind: 'readiness', readiness: { kind: 'never' } });
  const r = core.resetFunction(NVME, 'try');
  // FLR: 100 + 65535 ms; then the SBR of the downstream port: 2 + 1100 + 65535 ms.
  assert.deepEqual([r.errno, r.method, r.durationMs], ['ENOTTY', null, 100 + 65535 + 2 + 1100 + 65535]);
  assert.deepEqual([core.state(NVME).resets, core.state(NVME).lastReset?.how], [2, 'bus']);
  assert.equal(texts(log).filter((l) => l.endsWith('giving up')).length, 2);
});

test('W1: a late device is accepted at the first poll after afterMs, and "ready" is logged past 1 s', () => {
  const { core, log } = sim('qemu-sw', '6.1', EXACT);
  core.inject(NVME, { kind: 'readiness', readiness: { kind: 'late', afterMs: 1500 } });
  const r = core.resetFunction(NVME, 'try');
  // 100 ms FLR sleep, then 1 + 2 + … + 1024 = 2047 ms: at 2147 ms the device answers.
  assert.deepEqual([r.errno, r.durationMs], [0, 2147]);
  assert.deepEqual(texts(log), [
    `pci ${NVME}: not ready 1023ms after FLR; waiting`,
    `pci ${NVME}: ready 2047ms after FLR`,
  ]);
});

test('W3 [6.6+]: a surprise-removed device is not waited for; [6.1] it is polled for 65.5 s per method', () => {
  const late = sim('qemu-sw', '6.6+', EXACT);
  late.core.inject(NVME, { kind: 'surprise-removal' });
  assert.equal(late.core.state(NVME).present, false);
  assert.deepEqual(events(late.log, 'hot-remove'), [
    { kind: 'hot-remove', device: NVME, reason: 'surprise removal' },
  ]);
  // FLR: 100 ms, then no poll; the "bus" fallback: SBR + the blind 1.1 s wait, then again no poll.
  const r = late.core.resetFunction(NVME, 'try');
  assert.deepEqual([r.errno, r.durationMs], ['ENOTTY', 100 + 2 + 1100]);
  assert.equal(late.core.state(NVME).resets, 0, 'nothing there to reset');

  const old = sim('qemu-sw', '6.1', EXACT);
  old.core.inject(NVME, { kind: 'surprise-removal' });
  assert.deepEqual(
    [old.core.resetFunction(NVME, 'try').errno, old.clock.now()],
    ['ENOTTY', 100 + 65535 + 2 + 1100 + 65535],
  );
});

// ---------------------------------------------------------------------------------------------
// Function resets (M4–M8, T7, T8)

test('M4: the stale "bus" method of PPB 02:01.0 fails with ENOTTY at reset time (a sibling is on the bus)', () => {
  const { core, host } = sim('qemu-ppb');
  assert.deepEqual(host.state(PPB0)!.resetMethods, ['bus']);
  const r = core.resetFunction(PPB0, 'try');
  assert.deepEqual([r.errno, r.method, r.via], ['ENOTTY', null, null]);
  assert.equal(core.state(PPB0).resets, 0, 'no SBR was issued');
});

test('M6/M7: an empty method list (PPB 02:01.1) fails with ENOTTY before locking or saving', () => {
  const { core } = sim('qemu-ppb');
  core.inject(PPB1, { kind: 'hold-device-lock', held: true });
  const r = core.resetFunction(PPB1, 'try');
  assert.deepEqual([r.errno, r.durationMs], ['ENOTTY', 0]);
});

test('M5/T8: pm reset outside D0 → EINVAL with no fallback ("held"); "try" forces D0 first and succeeds', () => {
  const held = sim('qemu-rp', '6.1', EXACT);
  held.core.setPower(RP_E1000E, 'D3hot');
  const h = held.core.resetFunction(RP_E1000E, 'held');
  assert.deepEqual([h.errno, h.method], ['EINVAL', 'pm'], 'EINVAL ends the walk: "bus" is not tried');
  assert.equal(held.core.state(RP_E1000E).resets, 0);

  const tried = sim('qemu-rp', '6.1', EXACT);
  tried.core.setPower(RP_E1000E, 'D3hot');
  const t = tried.core.resetFunction(RP_E1000E, 'try');
  // pci_dev_save_and_disable: D3hot→D0 (12 ms), then the pm reset's two d3hot sleeps (2 × 12 ms).
  assert.deepEqual([t.errno, t.method, t.durationMs], [0, 'pm', 36]);
  assert.equal(tried.core.state(RP_E1000E).power, 'D0');
});

test('T8: a pm reset costs two d3hot delays (usleep_range 10–12 ms) plus save/restore (≈ 31 ms in the guest, §10.2 #18)', () => {
  assert.equal(sim('qemu-rp', '6.1', EXACT).core.resetFunction(RP_E1000E, 'try').durationMs, 24);
  within(sim('qemu-rp').core.resetFunction(RP_E1000E, 'try').durationMs, 30.8);
});

test('M6: "try" → EAGAIN on a held device lock; "held" ignores it; "block" would wait forever', () => {
  const { core } = sim('qemu-sw', '6.1', EXACT);
  core.inject(NVME, { kind: 'hold-device-lock', held: true });
  const t = core.resetFunction(NVME, 'try');
  assert.deepEqual([t.errno, t.method, t.durationMs], ['EAGAIN', null, 0]);
  assert.equal(core.state(NVME).resets, 0);
  assert.equal(core.resetFunction(NVME, 'held').errno, 0);
  assert.throws(() => core.resetFunction(NVME, 'block'), SimDeadlockError);
});

test('M6 [6.6+]: pci_reset_function also takes the upstream bridge lock (6.11+)', () => {
  const { core } = sim('qemu-sw', '6.6+', EXACT);
  core.inject('0000:02:00.0', { kind: 'hold-device-lock', held: true });
  assert.throws(() => core.resetFunction(NVME, 'block'), SimDeadlockError);
  assert.equal(core.resetFunction(NVME, 'try').errno, 0, 'pci_try_reset_function does not');
});

test('M6: "held" (__pci_reset_function_locked) neither saves nor restores: config is back at power-on values', () => {
  const { core } = sim('qemu-sw', '6.1', EXACT);
  core.state(NVME).config[HDR.command] = 0x06;
  assert.equal(core.resetFunction(NVME, 'held').errno, 0);
  assert.equal(core.state(NVME).config[HDR.command], 0);
  core.state(NVME).config[HDR.command] = 0x06;
  assert.equal(core.resetFunction(NVME, 'try').errno, 0);
  assert.equal(core.state(NVME).config[HDR.command], 0x06, 'saved and restored around the FLR');
});

test('§4.1/M5: acpi (_RST) has no kernel sleep; device_specific runs the quirk (delay_250ms_after_flr: FLR + 250 ms)', () => {
  const acpi = sim(
    host([
      hostBridge(),
      rootPort('00:1c.0', 1),
      endpoint('01:00.0', { acpiReset: true, pm: { noSoftReset: false } }),
    ]),
    '6.1',
    EXACT,
  );
  const a = acpi.core.resetFunction('0000:01:00.0', 'try');
  assert.deepEqual([a.errno, a.method, a.durationMs], [0, 'acpi', 1]);
  assert.equal(acpi.core.state('0000:01:00.0').lastReset?.how, 'acpi');

  const intel = sim(
    host([
      hostBridge(),
      rootPort('00:1c.0', 1),
      endpoint('01:00.0', { vendor: 0x8086, device: 0x0953, pcieOver: { flr: true } }),
    ]),
    '6.1',
    EXACT,
  );
  assert.deepEqual(intel.host.state('0000:01:00.0')!.resetMethods, ['device_specific', 'flr', 'bus']);
  const d = intel.core.resetFunction('0000:01:00.0', 'try');
  assert.deepEqual([d.errno, d.method, d.durationMs], [0, 'device_specific', 100 + 250]);
});

test('M8/T10 [2013]: FLR is a fixed 100 ms (no readiness poll); pm reset does not force D0 first', () => {
  const { core } = sim('qemu-sw', '2013', EXACT);
  core.inject(NVME, { kind: 'readiness', readiness: { kind: 'never' } });
  const r = core.resetFunction(NVME, 'block');
  assert.deepEqual([r.errno, r.method, r.durationMs], [0, 'flr', 100]);

  const rp = sim('qemu-rp', '2013', EXACT);
  rp.core.setPower(RP_E1000E, 'D3hot');
  const p = rp.core.resetFunction(RP_E1000E, 'block');
  assert.deepEqual([p.errno, p.method], ['EINVAL', 'pm']);
  const ok = sim('qemu-rp', '2013', EXACT).core.resetFunction(RP_E1000E, 'block');
  assert.deepEqual([ok.errno, ok.method, ok.durationMs], [0, 'pm', 20], '2 × msleep(10)');
});

test('M8 [2013]: the PPB e1000 functions have no function reset (no lone device on the bus)', () => {
  const { core } = sim('qemu-ppb', '2013');
  assert.equal(core.resetFunction(PPB0, 'block').errno, 'ENOTTY');
  assert.equal(core.resetFunction(PPB1, 'block').errno, 'ENOTTY');
});

// ---------------------------------------------------------------------------------------------
// Locks (X1, X2, X4)

test('X1: a held device lock anywhere in the bus scope, or on the bridge, → EAGAIN with nothing reset', () => {
  for (const holder of [RP_E1000E, RP]) {
    const { core, log } = sim('qemu-rp');
    core.inject(holder, { kind: 'hold-device-lock', held: true });
    const r = core.resetBus(RP_E1000E);
    assert.deepEqual([r.errno, r.kind, r.durationMs, r.affected], ['EAGAIN', 'bus', 0, []]);
    assert.equal(core.state(RP_E1000E).resets, 0);
    assert.equal(events(log, 'bus-reset').length, 0);
  }
});

test('X2: a slot reset does not lock the bridge above the slot', () => {
  const { core } = sim('qemu-rpn');
  core.inject(RP, { kind: 'hold-device-lock', held: true });
  const r = core.resetBus(RP_E1000E);
  assert.deepEqual([r.errno, r.kind], [0, 'slot']);
  core.inject(RP_E1000E, { kind: 'hold-device-lock', held: true });
  assert.equal(core.resetBus(RP_E1000E).errno, 'EAGAIN');
});

test('X4 [2013]: bus resets lock blockingly: a held lock would block forever', () => {
  const { core } = sim('qemu-ppb', '2013');
  core.inject(PPB1, { kind: 'hold-device-lock', held: true });
  assert.throws(() => core.resetBus(PPB0), SimDeadlockError);
});

test('X1/P2: a bus without a bridge cannot be reset (probe fails again in __pci_reset_bus)', () => {
  const { core } = sim('qemu-root');
  const r = core.resetBus('0000:00:02.0');
  assert.deepEqual([r.errno, r.kind, r.bridge, r.durationMs], ['ENOTTY', 'bus', '', 0]);
});

// ---------------------------------------------------------------------------------------------
// pciehp (PH1–PH4)

/** RPN with the e1000e's multi-function bit set: the slot path refuses it, "bus" goes to the parent bus. */
const rpnMultifunction = () =>
  edited('qemu-rpn', RP_E1000E, (d) => Object.assign(d, { multifunctionBit: true }));

test('PH1: a plain SBR below a pciehp port is taken for a surprise removal + insertion', () => {
  const { core, host, log } = sim(rpnMultifunction());
  host.state(RP_E1000E)!.resetMethods = ['bus'];
  core.inject(RP_E1000E, { kind: 'dirty', value: 7 });
  const r = core.resetFunction(RP_E1000E, 'try');
  assert.deepEqual([r.errno, r.method, r.via], [0, 'bus', 'parent-bus']);
  assert.deepEqual(events(log, 'hot-remove'), [
    { kind: 'hot-remove', device: RP_E1000E, reason: 'pciehp: link down after secondary bus reset' },
  ]);
  assert.deepEqual(events(log, 'hot-add'), [{ kind: 'hot-add', device: RP_E1000E }]);
  const t = texts(log);
  assert.ok(
    t.indexOf(`pci ${RP}: pciehp: Slot(1): Link Down`) < t.indexOf(`pci ${RP}: pciehp: Slot(1): Link Up`),
  );
  assert.equal(core.state(RP_E1000E).present, true, 're-enumerated');
  assert.equal(core.state(RP_E1000E).internalState, 0);
});

test('PH1/PH2: the same device reset through pciehp reset_slot (hot reset) shows no hotplug events', () => {
  const { core, log } = sim(rpnMultifunction());
  const r = core.resetBus(RP_E1000E);
  assert.deepEqual([r.errno, r.kind], [0, 'slot']);
  assert.equal(events(log, 'hot-remove').length + events(log, 'hot-add').length, 0);
  assert.deepEqual(events(log, 'slot-reset'), [
    { kind: 'slot-reset', slot: '1', scope: [RP_E1000E], result: '0' },
  ]);
});

test('PH1: the function-reset "bus" method of a lone non-multifunction device takes the pciehp slot path', () => {
  const { core, host, log } = sim('qemu-rpn');
  host.state(RP_E1000E)!.resetMethods = ['bus'];
  const r = core.resetFunction(RP_E1000E, 'try');
  assert.deepEqual([r.errno, r.method, r.via], [0, 'bus', 'slot']);
  assert.equal(events(log, 'hot-remove').length, 0);
});

test('PH1: if the link does not come back, pciehp removes the device and it stays gone', () => {
  const { core, host, log } = sim(rpnMultifunction());
  host.state(RP_E1000E)!.resetMethods = ['bus'];
  core.inject(RP, { kind: 'link-after-reset', up: false });
  const r = core.resetFunction(RP_E1000E, 'try');
  assert.equal(r.errno, 'ENOTTY');
  assert.equal(events(log, 'hot-remove').length, 1);
  assert.equal(events(log, 'hot-add').length, 0);
  assert.equal(core.state(RP_E1000E).present, false);
});

test('PH1: acpiphp (firmware hotplug) sees no event from a plain SBR', () => {
  const { core, host, log } = sim('qemu-rp25');
  host.state(RP_E1000E)!.resetMethods = ['bus'];
  const r = core.resetFunction(RP_E1000E, 'try');
  assert.deepEqual([r.errno, r.via], [0, 'parent-bus']);
  assert.equal(events(log, 'hot-remove').length + events(log, 'hot-add').length, 0);
});

test('PH2/PH4: a pciehp slot reset whose link stays down: [6.1] masked and cleared, [6.6+] re-raised → removal', () => {
  const old = sim('qemu-rpn', '6.1');
  old.core.inject(RP, { kind: 'link-after-reset', up: false });
  assert.equal(old.core.resetBus(RP_E1000E).errno, 'ENOTTY');
  assert.equal(old.core.state(RP_E1000E).present, true);
  assert.equal(events(old.log, 'hot-remove').length, 0);

  const late = sim('qemu-rpn', '6.6+');
  late.core.inject(RP, { kind: 'link-after-reset', up: false });
  assert.equal(late.core.resetBus(RP_E1000E).errno, 'ENOTTY');
  assert.equal(late.core.state(RP_E1000E).present, false);
  assert.equal(events(late.log, 'hot-add').length, 0);
});

test('PH3 [2013]: pciehp reset_slot is SBR + 1 s and returns 0', () => {
  const { core, log } = sim('qemu-rpn', '2013', EXACT);
  core.inject(RP, { kind: 'link-after-reset', up: false });
  const r = core.resetBus(RP_E1000E);
  assert.deepEqual([r.errno, r.kind, r.durationMs], [0, 'slot', 1002]);
  assert.equal(events(log, 'hot-remove').length, 0);
});

// ---------------------------------------------------------------------------------------------
// Power and faults

test('T6: D0↔D3hot costs the d3hot delay and PMCSR follows; D3hot→D0 of a NoSoftRst- device loses its state', () => {
  const { core, clock } = sim('qemu-rp', '6.1', EXACT);
  const st = core.state(RP_E1000E);
  const pmcsr = findCapability(st.config, CAP_ID.pm)! + PM_REG.ctrl;
  core.inject(RP_E1000E, { kind: 'dirty', value: 5 });
  core.setPower(RP_E1000E, 'D3hot');
  assert.deepEqual([st.power, st.config[pmcsr]! & 3, clock.now()], ['D3hot', 3, 12]);
  core.setPower(RP_E1000E, 'D0');
  assert.deepEqual([st.power, st.config[pmcsr]! & 3, clock.now()], ['D0', 0, 24]);
  assert.equal(st.internalState, 0, 'D0 uninitialized');

  // Without a PM capability there is nothing to program: the function stays in D0.
  const ppb = sim('qemu-ppb', '6.1', EXACT);
  ppb.core.setPower(PPB0, 'D3hot');
  assert.deepEqual([ppb.core.state(PPB0).power, ppb.clock.now()], ['D0', 0]);
});

test('W1/M6: every function starts present, in D0, ready, unlocked, with its power-on config', () => {
  const { core } = sim('qemu-sw');
  const st = core.state(NVME);
  assert.deepEqual(
    [st.present, st.power, st.readiness, st.deviceLockHeld, st.resets, st.lastReset, st.config.length],
    [true, 'D0', { kind: 'ready' }, false, 0, null, 4096],
  );
  assert.equal(st.config[0], 0x36, 'vendor 1b36');
  assert.throws(() => core.state('0000:09:00.0'), RangeError);
});
