/**
 * Timing rules of kernel-semantics §7 not covered by pci-exec.test.ts: the pciehp Command
 * Completed waits (T3/T4), the function-level bus method's cost (T9) and the empty-bus shortcut
 * of the bridge wait (WB1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Era } from '../../src/pci/era.ts';
import type { HostDesc } from '../../src/pci/model.ts';
import { BARE_METAL, SimClock } from '../../src/sim/clock.ts';
import { SimHost } from '../../src/sim/host.ts';
import { KernelLog } from '../../src/sim/log.ts';
import { SimPciCore } from '../../src/sim/pci-exec.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { downstreamPort, endpoint, host, hostBridge, rootPort, upstreamPort } from '../helpers/builders.ts';

function core(desc: HostDesc, era: Era = '6.1') {
  const h = new SimHost(desc, { era });
  const clock = new SimClock(BARE_METAL);
  const log = new KernelLog(() => clock.now());
  return { pci: new SimPciCore(h, clock, log), host: h, log };
}

test('T3/T4: a pciehp slot reset costs what the bus reset costs (Command Completed waits are 0 when CC works; 6.16+ writes nothing)', () => {
  const rpn = loadTopologyFile('examples/qemu-rpn.yaml');
  for (const era of ['6.1', '6.6+'] as const) {
    const slot = core(rpn, era).pci.resetBus('0000:01:00.0');
    assert.equal(slot.kind, 'slot');
    assert.equal(slot.errno, 0);
    // The same port without its pciehp slot: a plain bus reset of the same scope.
    const plain = core({ ...rpn, slots: [] }, era).pci.resetBus('0000:01:00.0');
    assert.equal(plain.kind, 'bus');
    assert.equal(slot.durationMs, plain.durationMs, era);
  }
});

test('T9: the function-level "bus" method costs the secondary bus reset of the parent bridge (parent-bus path)', () => {
  const rp25 = loadTopologyFile('examples/qemu-rp25.yaml');
  const a = core(rp25);
  a.host.state('0000:01:00.0')!.resetMethods = ['bus'];
  const fn = a.pci.resetFunction('0000:01:00.0', 'try');
  assert.equal(fn.errno, 0);
  assert.equal(fn.method, 'bus');
  assert.equal(fn.via, 'parent-bus');
  const bus = core(rp25).pci.resetBus('0000:01:00.0');
  assert.equal(fn.durationMs, bus.durationMs);
});

test('T9: below a pciehp slot the "bus" method of a lone function takes the slot path', () => {
  const a = core(loadTopologyFile('examples/qemu-rpn.yaml'));
  a.host.state('0000:01:00.0')!.resetMethods = ['bus'];
  const fn = a.pci.resetFunction('0000:01:00.0', 'try');
  assert.equal(fn.via, 'slot');
  assert.ok(
    !a.log.all().some((e) => e.event.kind === 'hot-remove'),
    'reset_slot masks the link events (PH2)',
  );
});

test('WB1: a bridge whose secondary bus is empty is not waited for during restore', () => {
  const base = [
    hostBridge(),
    rootPort('00:01.0', 1, { bridge: { secondary: 1, subordinate: 3 } }),
    upstreamPort('01:00.0', 2, 3),
    downstreamPort('02:00.0', 3),
  ];
  const empty = core(host(base)).pci.resetBus('0000:01:00.0');
  const withPmDevice = core(
    host([...base, endpoint('03:00.0', { pm: { noSoftReset: false } })]),
  ).pci.resetBus('0000:01:00.0');
  assert.equal(empty.errno, 0);
  assert.deepEqual(empty.affected, ['0000:01:00.0', '0000:02:00.0']);
  assert.ok(
    withPmDevice.durationMs >= empty.durationMs + 100,
    `${withPmDevice.durationMs} vs ${empty.durationMs}: the d3cold delay of the device below is waited for`,
  );
});
