/** Which scenario files a rig boot runs, and reading the kernel log records. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatKmsgRecord } from '../../src/rig/kmsg.ts';
import { eraOfRelease, type ScenarioMeta, scanScenarios, selectScenarios } from '../../src/rig/select.ts';
import { TOPOLOGIES, topologyByName } from '../../src/rig/topologies.ts';

const REPO = join(import.meta.dirname, '../..');

function meta(file: string, over: Partial<ScenarioMeta> = {}): ScenarioMeta {
  return {
    file,
    topology: 'examples/qemu-ppb.yaml',
    era: null,
    eras: null,
    faults: false,
    kvm: false,
    ...over,
  };
}

describe('eraOfRelease', () => {
  it('maps kernel releases to the model eras', () => {
    assert.equal(eraOfRelease('6.1.0-56-amd64'), '6.1');
    assert.equal(eraOfRelease('5.10.0-30-amd64'), '6.1');
    assert.equal(eraOfRelease('6.6.30'), '6.6+');
    assert.equal(eraOfRelease('7.0.1'), '6.6+');
  });
});

describe('selectScenarios', () => {
  const ppb = topologyByName('ppb')!;
  const all = [
    meta('scenarios/conformance/26-ppb-hot-reset.yaml', { eras: ['6.1'] }),
    meta('scenarios/conformance/26-ppb-hot-reset-2013.yaml', { eras: ['2013'] }),
    meta('scenarios/conformance/03-ppb-not-viable.yaml'),
    meta('scenarios/conformance/09-pinned.yaml', { era: '2013' }),
    meta('scenarios/conformance/38-ppb-lock.yaml', { faults: true }),
    meta('scenarios/conformance/59-ppb-kvm.yaml', { kvm: true }),
    meta('scenarios/conformance/01-rp.yaml', { topology: 'examples/qemu-rp.yaml' }),
  ];

  it('takes the twin topology files of the guest era, in file-name order', () => {
    const s = selectScenarios(ppb, all, '6.1');
    assert.deepEqual(s.run, [
      'scenarios/conformance/03-ppb-not-viable.yaml',
      'scenarios/conformance/26-ppb-hot-reset.yaml',
    ]);
  });

  it('leaves fault-injection and KVM files out, saying why', () => {
    assert.deepEqual(selectScenarios(ppb, all, '6.1').left, [
      { file: 'scenarios/conformance/38-ppb-lock.yaml', why: 'fault injection (simulator only)' },
      { file: 'scenarios/conformance/59-ppb-kvm.yaml', why: 'needs /dev/kvm (the TCG guest has no KVM)' },
    ]);
  });

  it('marks the files of this repo that open /dev/kvm', () => {
    const kvm = scanScenarios(REPO)
      .scenarios.filter((s) => s.kvm)
      .map((s) => s.file);
    assert.ok(kvm.includes('scenarios/conformance/59-rp-kvm-unset-container.yaml'), kvm.join(', '));
  });

  it('runs files a topology without a twin names itself', () => {
    const t = topologyByName('sriov')!;
    const s = selectScenarios(t, [...all, meta('scenarios/rig/sriov-vf.yaml', { topology: null })], '6.1');
    assert.deepEqual(s.run, ['scenarios/rig/sriov-vf.yaml']);
  });
});

describe('scanScenarios on this repo', () => {
  const scan = scanScenarios(REPO);

  it('loads the rig scenario files', () => {
    assert.deepEqual(
      scan.broken.filter((b) => b.startsWith('scenarios/rig/')),
      [],
    );
    for (const t of TOPOLOGIES)
      for (const f of t.scenarios)
        assert.ok(
          scan.scenarios.some((s) => s.file === f),
          f,
        );
  });

  it('gives every topology something to run on 6.1', () => {
    for (const t of TOPOLOGIES) assert.ok(selectScenarios(t, scan.scenarios, '6.1').run.length > 0, t.name);
  });
});

describe('formatKmsgRecord', () => {
  it('keeps the timestamp and the first line of the message', () => {
    assert.equal(
      formatKmsgRecord(
        '4,812,13580504,-;pcieport 0000:00:02.0: Data Link Layer Link Active not set in 1000 msec\n SUBSYSTEM=pci\n',
      ),
      '[   13.580504] pcieport 0000:00:02.0: Data Link Layer Link Active not set in 1000 msec',
    );
    assert.equal(formatKmsgRecord('no header'), null);
  });
});
