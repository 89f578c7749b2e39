import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatBdf } from '../../src/pci/bdf.ts';
import { compareHostDescs } from '../../src/pci/host-compare.ts';
import type { FunctionDesc, HostDesc } from '../../src/pci/model.ts';
import { generateHost } from '../../src/topology/generate.ts';
import { loadTopologyFile, parseTopology } from '../../src/topology/load.ts';
import {
  formatLspciDump,
  importLspci,
  LspciDumpError,
  type LspciErrorReason,
  loadLspciFile,
  parseLspci,
} from '../../src/topology/lspci.ts';
import { hostToTopologyYaml } from '../../src/topology/write.ts';
import { applyMutation, lspciishText, textMutation } from '../helpers/text-mutation.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/lspci');
const EXAMPLES = join(import.meta.dirname, '../../examples');
const scale = Math.max(1, Number(process.env.VFIO_RESET_FUZZ) || 1);

const fn = (h: HostDesc, bdf: string): FunctionDesc => {
  const f = h.functions.find((x) => formatBdf(x.bdf) === bdf);
  assert.ok(f, `${bdf} not in host`);
  return f;
};

/** Differences lspci cannot avoid: what it never shows, and link registers rc types do not have. */
const LSPCI_BLIND = new Set(['quirks', 'acpiReset', 'driverOverride', 'label']);

describe('importLspci: fixtures', () => {
  it('workstation (sudo lspci -nnk -xxxx + Physical Slot): the example back, up to what lspci cannot show', () => {
    const example = loadTopologyFile(join(EXAMPLES, 'workstation.yaml'));
    const { host, warnings } = loadLspciFile(join(FIXTURES, 'workstation.nnk-xxxx.txt'), {
      name: 'workstation',
    });
    assert.deepEqual(warnings, []);
    const diffs = compareHostDescs(example, host).filter((d) => !LSPCI_BLIND.has(d.field));
    // 00:02.0 is a root-complex integrated endpoint: it has no link registers, so config space reads 0.
    assert.deepEqual(
      diffs.map((d) => `${d.where} ${d.field}`),
      [
        '0000:00:02.0 pcie.linkActive',
        '0000:00:02.0 pcie.linkSpeedCode',
        '0000:00:02.0 pcie.linkSpeedsVector',
        '0000:00:02.0 pcie.linkWidth',
      ],
    );
    // Every slot: pciehp ones from the ports' Slot Control (12 and 13 are empty), ACPI ones from -v.
    assert.deepEqual(
      host.slots.map((s) => `${s.name}@${s.bus}:${s.device}/${s.driver}`).sort(),
      example.slots.map((s) => `${s.name}@${s.bus}:${s.device}/${s.driver}`).sort(),
    );
    assert.equal(fn(host, '0000:05:00.0').driver, 'vfio-pci');
    assert.equal(fn(host, '0000:05:00.0').driverOverride, null, 'lspci does not show driver_override');
    assert.equal(fn(host, '0000:01:00.0').label, 'AD102 [GeForce RTX 4090]');
    assert.equal(fn(host, '0000:03:00.0').label, 'Device 8747');
  });

  it('qemu-i440fx (hand-written lspci -vvnn -xxx): conventional PCI, -v lines skipped, shpchp slot', () => {
    const text = readFileSync(join(FIXTURES, 'qemu-i440fx.vvnn-xxx.txt'), 'utf8');
    const { host, warnings } = importLspci(text, { name: 'i440fx' });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      host.functions.map((f) => [formatBdf(f.bdf), f.classCode.toString(16), f.driver]),
      [
        ['0000:00:00.0', '60000', null],
        ['0000:00:01.0', '60100', null],
        ['0000:00:01.1', '10180', 'ata_piix'],
        ['0000:00:03.0', '60400', 'shpchp'],
        ['0000:01:01.0', '20000', 'e1000'],
      ],
    );
    const hb = fn(host, '0000:00:00.0');
    assert.deepEqual(
      [hb.vendor, hb.device, hb.revision, hb.subsystemVendor, hb.subsystemDevice],
      [0x8086, 0x1237, 2, 0x1af4, 0x1100],
    );
    assert.equal(hb.label, 'Intel Corporation 440FX - 82441FX PMC [Natoma]');
    assert.equal(fn(host, '0000:00:01.0').multifunctionBit, true);
    assert.equal(fn(host, '0000:00:01.1').label, 'Intel Corporation 82371SB PIIX3 IDE [Natoma/Triton II]');
    const br = fn(host, '0000:00:03.0');
    assert.deepEqual(
      [br.header, br.bridge, br.pcie, br.subsystemVendor],
      ['bridge', { secondary: 1, subordinate: 1 }, undefined, 0],
    );
    const nic = fn(host, '0000:01:01.0');
    assert.deepEqual([nic.revision, nic.pm, nic.pcie], [3, { noSoftReset: false }, undefined]);
    assert.deepEqual(host.slots, [{ domain: 0, bus: 1, device: 1, name: '1', driver: 'shpchp' }]);
    // And on into a topology file.
    assert.deepEqual(compareHostDescs(host, parseTopology(hostToTopologyYaml(host))), []);
  });
});

describe('importLspci: variants of the format', () => {
  const small = () => loadTopologyFile(join(EXAMPLES, 'qemu-sw.yaml'));

  it('domains (-D), CRLF line ends, -n headers and no -k lines', () => {
    const h = small();
    const text = formatLspciDump(h, { domains: true, numeric: false, kernel: false }).replaceAll(
      '\n',
      '\r\n',
    );
    assert.match(text, /^0000:00:00\.0 Host bridge: /);
    const back = parseLspci(text);
    assert.ok(back.functions.every((f) => f.driver === null));
    const numericOnly = text.replace(/^(\S+\.[0-7]) .*$/gm, (_, a: string) => `${a} 0200: 8086:10d3`);
    assert.equal(
      parseLspci(numericOnly).functions.find((f) => f.label !== undefined),
      undefined,
    );
  });

  it('functions outside domain 0 are addressed as lspci prints them', () => {
    const h = small();
    for (const f of h.functions) (f as { bdf: FunctionDesc['bdf'] }).bdf = { ...f.bdf, domain: 0x1d };
    for (const s of h.slots) s.domain = 0x1d;
    const back = parseLspci(formatLspciDump(h));
    assert.deepEqual(
      back.functions.map((f) => formatBdf(f.bdf)),
      h.functions.map((f) => formatBdf(f.bdf)).sort(),
    );
  });

  it('a PCIe function with only 256 bytes (lspci -xxx) is read, with a warning that ACS is unknown', () => {
    const text = formatLspciDump(small());
    const cut = text.replace(/^(?:[1-9a-f][0-9a-f]{2}): .*\n/gm, '');
    const { host, warnings } = importLspci(cut, { file: 'cut.txt' });
    assert.equal(fn(host, '0000:00:02.0').acs, undefined);
    assert.ok(
      warnings.some((w) => /^cut\.txt:\d+: 0000:00:02\.0 is PCIe but the dump stops at 0xff/.test(w)),
    );
  });

  it('a VF: config space reads ffff:ffff, the ids come from -nn', () => {
    const h = small();
    const nvme = fn(h, '0000:03:00.0');
    const vf: FunctionDesc = { ...nvme, bdf: { ...nvme.bdf, fn: 1 }, virtfn: true, multifunctionBit: false };
    h.functions.push(vf);
    const back = parseLspci(formatLspciDump(h));
    const got = fn(back, '0000:03:00.1');
    assert.deepEqual([got.virtfn, got.vendor, got.device], [true, nvme.vendor, nvme.device]);
    assertError(formatLspciDump(h, { numeric: false }), 'vf-ids', 'no ids', /an SR-IOV VF.*lspci -nn/);
  });

  it('a domain above ffff (Intel VMD) is skipped with a warning', () => {
    const text = formatLspciDump(small()).replace(
      /^03:00\.0/m,
      '10000:e1:00.0 Non-Volatile memory controller [0108]: x [1b36:0010]\n\tKernel driver in use: nvme\n00: 00',
    );
    // The skipped block ends at the next header; its lines are not read.
    const { host, warnings } = importLspci(text.replace(/^00: 00\n/m, ''));
    assert.equal(host.functions.length, small().functions.length - 1);
    assert.ok(warnings.some((w) => /10000:e1:00\.0 is in domain 10000/.test(w)));
  });

  it('generated hosts: config fields, tree, drivers and port slots survive (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.boolean(), (seed, verbose) => {
        const h = generateHost(seed, { maxFunctions: 20 });
        const back = parseLspci(formatLspciDump(h, { verbose }), { name: h.name });
        const diffs = compareHostDescs(h, back).filter(
          (d) => !LSPCI_BLIND.has(d.field) && !d.where?.startsWith('slot '),
        );
        assert.deepEqual(diffs, []);
        // Slots: pciehp from Slot Control even without -v; others need a Physical Slot line.
        for (const s of h.slots) {
          const got = back.slots.find((x) => x.bus === s.bus && x.device === s.device);
          const occupied = h.functions.some((f) => f.bdf.bus === s.bus && f.bdf.device === s.device);
          if (s.driver === 'pciehp') assert.deepEqual(got, s);
          else if (!verbose || !occupied) assert.equal(got, undefined);
          else {
            const port = h.functions.find((f) => f.bridge?.secondary === s.bus);
            const expected = port?.pcie?.slot?.hotplugCapable ? 'acpiphp' : 'pci_slot';
            assert.deepEqual(got, { ...s, driver: expected });
          }
        }
      }),
      { numRuns: 100 * scale },
    );
  });
});

function assertError(
  text: string,
  reason: LspciErrorReason,
  what: string,
  message: RegExp,
  at?: [number, number],
) {
  try {
    importLspci(text, { file: 'd.txt' });
  } catch (e) {
    assert.ok(e instanceof LspciDumpError, `${what}: expected LspciDumpError, got ${String(e)}`);
    assert.equal(e.code, 'VFIO_RESET_E_LSPCI_DUMP');
    assert.equal(e.reason, reason, `${what}: ${e.message}`);
    assert.match(e.detail, message, what);
    if (at) assert.deepEqual([e.line, e.col], at, `${what}: ${e.message}`);
    assert.ok(e.message.startsWith(`d.txt:${e.line}:${e.col}: `), e.message);
    return;
  }
  assert.fail(`${what}: expected an error`);
}

describe('importLspci: every bad input is one located LspciDumpError', () => {
  const good = formatLspciDump(loadTopologyFile(join(EXAMPLES, 'qemu-rp.yaml')));
  const lines = good.split('\n');
  const lineOf = (re: RegExp, from = 0) => lines.findIndex((l, i) => i >= from && re.test(l)) + 1;
  const withLine = (n: number, s: string) => lines.map((l, i) => (i === n - 1 ? s : l)).join('\n');
  const rp = lineOf(/^00:02\.0 /);
  const nic = lineOf(/^01:00\.0 /);
  const nicHex = lineOf(/^00: /, nic); // after its Subsystem and driver lines

  it('the dump is good to start with', () => {
    assert.equal(parseLspci(good).functions.length, 6);
  });

  it('syntax and layout', () => {
    assertError('', 'empty', 'empty', /no PCI functions found/, [1, 1]);
    assertError('\n\n  \n', 'empty', 'blank', /no PCI functions found/, [1, 1]);
    assertError(
      `lspci: Unable to load libkmod resources\n${good}`,
      'syntax',
      'stderr noise',
      /expected a device header/,
      [1, 1],
    );
    assertError(
      `\tKernel driver in use: x\n${good}`,
      'syntax',
      'detail first',
      /before any device header/,
      [1, 1],
    );
    assertError(`00: 86 80\n${good}`, 'syntax', 'bytes first', /before any device header/, [1, 1]);
    assertError(
      withLine(rp, '00:20.0 PCI bridge: x'),
      'syntax',
      'device 20',
      /not a PCI address \(device number above 1f\)/,
      [rp, 1],
    );
    assertError(
      withLine(rp + 3, '\tKernel driver in use: x'),
      'syntax',
      'detail after bytes',
      /before the hex dump/,
      [rp + 3, 1],
    );
    assertError(
      withLine(rp + 1, '\tKernel driver in use: two words'),
      'syntax',
      'driver',
      /one driver name/,
      [rp + 1, 24],
    );
  });

  it('config lines', () => {
    const first = rp + 2; // header, Kernel driver line, then 00:
    assert.match(lines[first - 1]!, /^00: /);
    assertError(
      withLine(first + 1, lines[first]!.replace(/^10:/, '20:')),
      'offset',
      'skip',
      /offset 20 skips lines; expected 10/,
      [first + 1, 1],
    );
    assertError(
      withLine(first + 1, lines[first - 1]!),
      'offset',
      'repeat',
      /offset 00 repeats an earlier line/,
      [first + 1, 1],
    );
    assertError(
      withLine(first + 1, lines[first]!.replace(/^10:/, '18:')),
      'offset',
      'odd',
      /not a multiple of 10/,
    );
    assertError(
      withLine(first, `${lines[first - 1]!.slice(0, 10)}zz${lines[first - 1]!.slice(12)}`),
      'bytes',
      'zz',
      /two hex digits/,
      [first, 11],
    );
    assertError(withLine(first, lines[first - 1]!.slice(0, -3)), 'bytes', 'short', /has 15 bytes/, [
      first,
      49,
    ]);
    assertError(withLine(first, `${lines[first - 1]!} 00`), 'bytes', 'long', /more than 16 bytes/, [
      first,
      52,
    ]);
    assertError(
      withLine(first, lines[first - 1]!.replace(/ /g, '  ')),
      'bytes',
      'spacing',
      /two hex digits/,
      [first, 5],
    );
  });

  it('lengths: lspci -x, a cut dump, a header without bytes, bytes beyond ff0', () => {
    const hb = lineOf(/^00:00\.0 /);
    const x = good
      .split('\n')
      .filter((l, i) => !(i + 1 > hb && i + 1 <= hb + 16 && /^[4-9a-f]0: /.test(l)))
      .join('\n');
    assertError(x, 'length', 'lspci -x', /only 64 bytes of config space.*sudo lspci -xxxx/, [hb + 4, 1]);
    const cut = lines.filter((_l, i) => !(i + 1 >= nicHex + 0x18 && i + 1 < nicHex + 0x100)).join('\n');
    assertError(cut, 'length', 'cut', /stop at 180; lspci prints 256 or 4096/);
    assertError(
      withLine(nic, '01:00.0 Ethernet controller: x\n\n02:00.0 Ethernet controller: y'),
      'length',
      'no bytes',
      /has no config bytes/,
    );
    const extra = lines
      .map((l, i) => (i + 1 === nicHex + 255 ? `${l}\n1000: ${' 00'.repeat(16).slice(1)}` : l))
      .join('\n');
    assertError(extra, 'length', 'beyond', /already has 4096 bytes/);
  });

  it('config space and the tree: absent device, bad header type, duplicates, orphans, slots', () => {
    const first = nicHex;
    const ones = lines.map((l, i) =>
      i + 1 >= first && i + 1 < first + 4 ? l.replace(/ [0-9a-f]{2}/g, ' ff') : l,
    );
    assertError(ones.join('\n'), 'config', 'all ones', /reads all-ones: no device answers/, [first, 1]);
    const hdr = withLine(first, lines[first - 1]!.replace(/^(00:(?: [0-9a-f]{2}){14}) [0-9a-f]{2}/, '$1 7f'));
    assertError(hdr, 'config', 'header type', /header type 0x7f/, [first, 1]);
    const twice = `${good}${good.slice(good.indexOf('01:00.0 '))}`;
    assertError(twice, 'duplicate', 'twice', /0000:01:00\.0 appears twice \(first at line \d+\)/, [
      lines.length, // good ends with a blank line, so the copy starts on the last line
      1,
    ]);
    assertError(
      withLine(nic, lines[nic - 1]!.replace(/^01:00\.0/, '01:00.1')),
      'topology',
      'no fn 0',
      /0000:01:00\.1 has no function 0/,
      [nic, 1],
    );
    // The root port's secondary bus set to 0: below its own bus.
    const sec = rp + 3; // the 10: line holds PCI_SECONDARY_BUS at 0x19
    const broken = withLine(sec, lines[sec - 1]!.replace(/^(10:(?: [0-9a-f]{2}){9}) 01/, '$1 00'));
    assertError(
      broken,
      'topology',
      'secondary 0',
      /0000:00:02\.0 secondary bus 0 must be above its own bus/,
      [rp, 1],
    );
    const slots = withLine(nic, `${lines[nic - 1]!}\n\tPhysical Slot: 1`);
    assert.equal(parseLspci(slots).slots[0]?.name, '1');
  });

  it('an unreadable file', () => {
    assert.throws(
      () => loadLspciFile(join(FIXTURES, 'missing.txt')),
      (e: unknown) =>
        e instanceof LspciDumpError && e.reason === 'unreadable' && e.line === 0 && /ENOENT/.test(e.message),
    );
  });
});

describe('importLspci: fuzz', () => {
  function check(src: string): void {
    try {
      importLspci(src, { file: 'fuzz.txt' });
    } catch (e) {
      if (!(e instanceof LspciDumpError)) throw e;
      assert.notEqual(e.reason, 'internal', e.message);
      const lineCount = src.split('\n').length;
      assert.ok(e.line >= 1 && e.line <= lineCount, `line ${e.line} of ${lineCount}: ${e.message}`);
      assert.ok(e.col >= 1, e.message);
      assert.ok(e.message.startsWith(`fuzz.txt:${e.line}:${e.col}: `));
    }
  }
  const dumpish = lspciishText();

  it('random strings never throw anything but LspciDumpError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 300 * scale });
    fc.assert(fc.property(dumpish, check), { numRuns: 500 * scale });
  });

  it('mutations of a valid dump never throw anything but LspciDumpError', () => {
    const source = formatLspciDump(loadTopologyFile(join(EXAMPLES, 'qemu-ppb.yaml')), { verbose: true });
    const i440fx = readFileSync(join(FIXTURES, 'qemu-i440fx.vvnn-xxx.txt'), 'utf8');
    const mutation = textMutation(dumpish, ['00', 'ff', 'zz', '', '00 00', 'f', ' 10', '7f', '01']);
    fc.assert(
      fc.property(
        fc.constantFrom(source, i440fx),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (src, ms) => check(ms.reduce(applyMutation, src)),
      ),
      { numRuns: 400 * scale },
    );
  });
});
