import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { scenarioJsonSchema } from '../../src/scenario/json-schema.ts';
import {
  loadScenarioFile,
  parseScenario,
  ScenarioFileError,
  type ScenarioFileIssue,
  STEP_VERBS,
} from '../../src/scenario/load.ts';
import { StepSchema, stepVerb } from '../../src/scenario/schema.ts';
import { TopologyFileError } from '../../src/topology/load.ts';
import { FileError } from '../../src/topology/yaml-file.ts';
import { applyMutation, textMutation, yamlishText } from '../helpers/text-mutation.ts';

const EXAMPLES = join(import.meta.dirname, '../../examples');
/** Scenario texts are parsed as if they were this file, so `topology:` below resolves to examples/. */
const FILE = join(import.meta.dirname, 's.yaml');

/** A valid scenario; tests change single lines of it, so line numbers below refer to this. */
const BASE = [
  'name: ppb hot reset', // 1
  'topology: ../../examples/qemu-ppb.yaml', // 2
  'era: "6.1"', // 3
  'steps:', // 4
  '  - { open: /dev/vfio/vfio, as: c }', // 5
  '  - { open-group: "0000:02:01.0", as: g }', // 6
  '  - set-container:', // 7
  '      group: g', // 8
  '      container: c', // 9
  '  - { set-iommu: { container: c, type: 3 } }', // 10
  '  - { get-device: { group: g, device: "0000:02:01.0", as: d } }', // 11
  '  - { hot-reset-info: { device: d } }', // 12
  '  - hot-reset:', // 13
  '      device: d', // 14
  '      fds: [g, 99]', // 15
  '    expect: ok', // 16
  '    label: reset the bus', // 17
];
const text = (lines: string[]) => `${lines.join('\n')}\n`;
/** BASE with line `n` (1-based) replaced by `line`. */
const withLine = (n: number, line: string) => text(BASE.map((l, i) => (i === n - 1 ? line : l)));
/** BASE with `lines` inserted after line `n`. */
const insertAfter = (n: number, ...lines: string[]) =>
  text([...BASE.slice(0, n), ...lines, ...BASE.slice(n)]);

function fileError(src: string): ScenarioFileError {
  try {
    parseScenario(src, FILE);
  } catch (e) {
    assert.ok(e instanceof ScenarioFileError, `expected ScenarioFileError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the file to be rejected');
}

function oneIssue(src: string, expected: Omit<ScenarioFileIssue, 'file' | 'message'> & { message: RegExp }) {
  const e = fileError(src);
  assert.equal(e.code, 'VFIO_RESET_E_SCENARIO_FILE');
  assert.equal(e.name, 'ScenarioFileError');
  assert.equal(e.issues.length, 1, `issues: ${e.message}`);
  const [i] = e.issues;
  assert.deepEqual(
    { file: i!.file, line: i!.line, col: i!.col, path: i!.path },
    { file: FILE, line: expected.line, col: expected.col, path: expected.path },
  );
  assert.match(i!.message, expected.message);
  const where = `${FILE}:${expected.line}:${expected.col}: `;
  assert.ok(e.message.startsWith(expected.path === '' ? where : `${where}${expected.path}: `), e.message);
  return i!;
}

describe('parseScenario: valid files', () => {
  it('loads the base scenario as written', () => {
    const s = parseScenario(text(BASE), FILE);
    assert.equal(s.name, 'ppb hot reset');
    assert.equal(s.era, '6.1');
    assert.deepEqual(
      s.steps.map((x) => stepVerb(x)),
      ['open', 'open-group', 'set-container', 'set-iommu', 'get-device', 'hot-reset-info', 'hot-reset'],
    );
    assert.deepEqual(s.steps[6], {
      'hot-reset': { device: 'd', fds: ['g', 99] },
      expect: 'ok',
      label: 'reset the bus',
    });
  });

  it('accepts JSON, raw fd numbers, rebinding a handle, and short BDFs', () => {
    const json = JSON.stringify({
      $schema: './scenario.schema.json',
      name: 'j',
      steps: [
        { open: '/dev/vfio/vfio', as: 'c' },
        { open: '/dev/vfio/vfio', as: 'c' }, // rebinding is allowed
        { close: 'c' },
        { close: 42, expect: 'EBADF' },
        { 'open-group': '02:01.0', as: 'g' },
        { bind: { device: '0000:02:01.1', driver: 'vfio-pci' } },
        { unbind: '02:01.1' },
        { ioctl: { fd: 'g', request: 'VFIO_GROUP_GET_STATUS' } },
      ],
    });
    assert.equal(parseScenario(json, 'j.json').steps.length, 8);
  });

  it('skips the topology check when told to', () => {
    const s = parseScenario(withLine(2, 'topology: nowhere.yaml'), FILE, { dir: null });
    assert.equal(s.topology, 'nowhere.yaml');
  });

  it('loadScenarioFile resolves topology against the file and returns its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfio-reset-scenario-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'topo'));
    copyFileSync(join(EXAMPLES, 'qemu-ppb.yaml'), join(dir, 'topo', 'ppb.yaml'));
    writeFileSync(join(dir, 'a.yaml'), withLine(2, 'topology: topo/ppb.yaml'));
    const { scenario, dir: got } = loadScenarioFile(join(dir, 'a.yaml'));
    assert.equal(got, dir);
    assert.equal(scenario.topology, 'topo/ppb.yaml');

    writeFileSync(join(dir, 'b.yaml'), withLine(2, 'topology: topo'));
    assert.throws(
      () => loadScenarioFile(join(dir, 'b.yaml')),
      (e: unknown) =>
        e instanceof ScenarioFileError &&
        e.issues[0]!.line === 2 &&
        e.issues[0]!.col === 11 &&
        /topo is not a file/.test(e.message),
    );
  });

  it('knows every verb of the schema', () => {
    assert.equal(STEP_VERBS.length, StepSchema.options.length);
    assert.deepEqual(STEP_VERBS.slice(0, 3), ['open', 'open-group', 'close']);
  });
});

describe('parseScenario: errors', () => {
  it('YAML syntax: a key without its colon', () => {
    oneIssue(withLine(14, '      device d'), {
      line: 14,
      col: 7,
      path: 'steps.6.hot-reset',
      message: /^YAML: .*\(a key is missing its colon, or a line is indented too far\)$/,
    });
  });

  it('YAML syntax: an unclosed flow mapping', () => {
    oneIssue(withLine(12, '  - { hot-reset-info: { device: d }'), {
      line: 13,
      col: 3,
      path: 'steps',
      message: /^YAML: .*a closing bracket or brace is missing/,
    });
  });

  it('an unknown step verb, at its key, listing the verbs', () => {
    const i = oneIssue(withLine(5, '  - { opn: /dev/vfio/vfio, as: c }'), {
      line: 5,
      col: 7,
      path: 'steps.0.opn',
      message: /^unknown step "opn" \(did you mean open\?\); a step is one of: open, open-group, close, /,
    });
    for (const verb of STEP_VERBS) assert.ok(i.message.includes(verb), verb);
    oneIssue(withLine(5, '  - { frobnicate: 1 }'), {
      line: 5,
      col: 7,
      path: 'steps.0.frobnicate',
      message: /^unknown step "frobnicate"; a step is one of: open, /,
    });
  });

  it('a step without a verb, with two verbs, or not a mapping', () => {
    oneIssue(withLine(5, '  - { label: x }'), {
      line: 5,
      col: 5,
      path: 'steps.0',
      message: /^the step has no verb; a step is one of: open, /,
    });
    oneIssue(withLine(5, '  - { open: /dev/vfio/vfio, close: c }'), {
      line: 5,
      col: 29,
      path: 'steps.0.close',
      message: /^a step has one verb, this one has open and close \(split it into 2 steps\)$/,
    });
    oneIssue(withLine(5, '  - open'), {
      line: 5,
      col: 5,
      path: 'steps.0',
      message: /^expected a step \(a mapping with one verb, e\.g\. \{ open: .*\), got the string "open"$/,
    });
  });

  it('a wrong type inside a step', () => {
    oneIssue(withLine(10, '  - { set-iommu: { container: c, type: three } }'), {
      line: 10,
      col: 40,
      path: 'steps.3.set-iommu.type',
      message: /^expected a number, got the string "three"$/,
    });
    oneIssue(withLine(9, '      container: [c]'), {
      line: 9,
      col: 18,
      path: 'steps.2.set-container.container',
      message: /^expected a handle name \(defined with as:\) or an fd number, got a list$/,
    });
    oneIssue(withLine(6, '  - { open-group: 0x0201, as: g }'), {
      line: 6,
      col: 19,
      path: 'steps.1.open-group',
      message: /^expected a string, got the number 513 \(quote it: open-group: "0000:02:01\.0"/,
    });
  });

  it('an unknown field inside a step suggests the right one', () => {
    oneIssue(withLine(10, '  - { set-iommu: { container: c, type: 3, arg: 1 } }'), {
      line: 10,
      col: 43,
      path: 'steps.3.set-iommu.arg',
      message: /^unknown field "arg" \(known fields: container, type\)$/,
    });
    // A misspelt required field: both the missing one and the stray one, in file order.
    const e = fileError(withLine(10, '  - { set-iommu: { container: c, typ: 3 } }'));
    assert.deepEqual(
      e.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`),
      [
        '10:18 steps.3.set-iommu.type: is required (a number)',
        '10:34 steps.3.set-iommu.typ: unknown field "typ" (did you mean type?)',
      ],
    );
    oneIssue(withLine(5, '  - { open: /dev/vfio/vfio, ass: c }'), {
      line: 5,
      col: 29,
      path: 'steps.0.ass',
      message: /^unknown field "ass" \(did you mean as\?\)$/,
    });
  });

  it('bad expect, handle names and eras say what they take', () => {
    oneIssue(withLine(16, '    expect: einval'), {
      line: 16,
      col: 13,
      path: 'steps.6.expect',
      message: /^expected ok, an errno name such as EINVAL, .*\(errno names are upper case: EINVAL\)$/,
    });
    oneIssue(withLine(5, '  - { open: /dev/vfio/vfio, as: 1c }'), {
      line: 5,
      col: 33,
      path: 'steps.0.as',
      message: /^expected a handle name such as c, g1, dev, got the string "1c"$/,
    });
    oneIssue(withLine(3, 'era: 6.1'), {
      line: 3,
      col: 6,
      path: 'era',
      message: /^the number 6\.1 is not one of: 2013, 6\.1, 6\.6\+ \(quote it: era: "6\.1"/,
    });
  });

  it('a handle no earlier step defined', () => {
    oneIssue(withLine(8, '      group: h'), {
      line: 8,
      col: 14,
      path: 'steps.2.set-container.group',
      message: /^handle 'h' is not defined by an earlier step \(use `as: h` on the step that opens it\)$/,
    });
    oneIssue(withLine(15, '      fds: [g, x]'), {
      line: 15,
      col: 16,
      path: 'steps.6.hot-reset.fds.1',
      message: /^handle 'x' is not defined by an earlier step/,
    });
    oneIssue(
      text([
        ...BASE.slice(0, 10),
        '  - { get-device: { group: g, device: "0000:02:01.0", as: dev } }',
        '  - { hot-reset-info: { device: devv } }',
      ]),
      {
        line: 12,
        col: 33,
        path: 'steps.5.hot-reset-info.device',
        message:
          /^handle 'devv' is not defined by an earlier step \(did you mean dev\? otherwise use `as: devv`/,
      },
    );
    // Defined, but only by a later step.
    oneIssue(insertAfter(4, '  - { close: c }'), {
      line: 5,
      col: 14,
      path: 'steps.0.close',
      message:
        /^handle 'c' is not defined by an earlier step \(line 6 defines it with `as: c`; move that step/,
    });
  });

  it('a field that must be a PCI address', () => {
    oneIssue(withLine(6, '  - { open-group: "0000:02:20.0", as: g }'), {
      line: 6,
      col: 19,
      path: 'steps.1.open-group',
      message: /^"0000:02:20\.0" is not a PCI address \(device number above 1f\); write dddd:bb:dd\.f/,
    });
    oneIssue(withLine(11, '  - { get-device: { group: g, device: "eth0", as: d } }'), {
      line: 11,
      col: 39,
      path: 'steps.4.get-device.device',
      message: /^"eth0" is not a PCI address \(malformed\)/,
    });
    const e = fileError(
      insertAfter(17, '  - { bind: { device: "02:01.8", driver: vfio-pci } }', '  - { unbind: "x" }'),
    );
    assert.deepEqual(
      e.issues.map((i) => `${i.line}:${i.col} ${i.path}`),
      ['18:23 steps.7.bind.device', '19:15 steps.8.unbind'],
    );
    assert.match(e.issues[0]!.message, /function must be 0-7/);
  });

  it('a topology file that does not exist', () => {
    oneIssue(withLine(2, 'topology: ../../examples/nope.yaml'), {
      line: 2,
      col: 11,
      path: 'topology',
      message:
        /examples\/nope\.yaml does not exist \(the topology path is relative to the scenario file's directory/,
    });
  });

  it('lists every semantic issue, in file order', () => {
    const e = fileError(
      text([
        ...BASE.slice(0, 4),
        '  - { close: a }',
        '  - { open-group: "zz", as: g }',
        '  - { reset: b }',
        '  - { unbind: "1:2:3" }',
      ]),
    );
    assert.deepEqual(
      e.issues.map((i) => `${i.line}:${i.col} ${i.path}`),
      ['5:14 steps.0.close', '6:19 steps.1.open-group', '7:14 steps.2.reset', '8:15 steps.3.unbind'],
    );
  });

  it('an empty file, a wrong top level, a second document', () => {
    oneIssue('', {
      line: 1,
      col: 1,
      path: '',
      message: /^the file is empty \(it needs at least name: and steps:\)$/,
    });
    oneIssue('name: x\nsteps: 3\n', {
      line: 2,
      col: 8,
      path: 'steps',
      message: /^expected a list \(- items\), got the number 3$/,
    });
    oneIssue('name: x\n', { line: 1, col: 1, path: 'steps', message: /^is required \(a list\)$/ });
    oneIssue(`${text(BASE)}---\nname: y\n`, {
      line: 18,
      col: 1,
      path: '',
      message: /a scenario file holds one document/,
    });
  });

  it('refuses absurd nesting like topology files', () => {
    oneIssue('['.repeat(1000), { line: 1, col: 65, path: '', message: /more than 64 deep/ });
    assert.equal(parseScenario(text(BASE), FILE).steps.length, 7);
  });

  it('an unreadable file', () => {
    try {
      loadScenarioFile('/nonexistent/vfio-reset/s.yaml');
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof ScenarioFileError);
      assert.ok(e instanceof FileError);
      assert.ok(!(e instanceof TopologyFileError));
      assert.equal(e.issues[0]!.line, 0);
      assert.match(
        e.message,
        /^\/nonexistent\/vfio-reset\/s\.yaml: cannot read the scenario file: no such file/,
      );
    }
  });
});

describe('scenarioJsonSchema', () => {
  it('is a draft 2020-12 object schema with one anyOf member per verb', () => {
    const s = scenarioJsonSchema();
    assert.equal(s.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(s.type, 'object');
    assert.equal(s.additionalProperties, false);
    assert.deepEqual(s.required, ['name', 'steps']);
    const steps = (s.properties as Record<string, { items: { anyOf: unknown[] } }>).steps!;
    assert.equal(steps.items.anyOf.length, STEP_VERBS.length);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(s)));
  });
});

describe('parseScenario: fuzz', () => {
  /** `VFIO_RESET_FUZZ=20` runs twenty times as many cases (for a long local run). */
  const scale = Math.max(1, Number(process.env.VFIO_RESET_FUZZ) || 1);
  /** Either a scenario, or a ScenarioFileError with located issues. */
  function check(src: string): void {
    try {
      parseScenario(src, 'fuzz.yaml', { dir: EXAMPLES });
    } catch (e) {
      if (!(e instanceof ScenarioFileError)) throw e;
      assert.ok(e.issues.length > 0);
      const lineCount = src.split(/\r\n|\r|\n/).length;
      for (const i of e.issues) {
        assert.equal(i.file, 'fuzz.yaml');
        assert.ok(i.line >= 1 && i.line <= lineCount + 1, `line ${i.line} of ${lineCount}`);
        assert.ok(i.col >= 1);
        assert.ok(i.message.length > 0);
      }
      assert.ok(e.message.startsWith('fuzz.yaml:'));
    }
  }

  const yamlish = yamlishText(['steps', 'open', 'as', 'close', 'hot-reset', 'fds']);

  it('random strings never throw anything but ScenarioFileError', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), check), { numRuns: 300 * scale });
    fc.assert(fc.property(yamlish, check), { numRuns: 500 * scale });
  });

  const source = text(BASE.map((l) => l.replace('../../examples/', '')));
  const mutation = textMutation(yamlish, [
    '',
    'null',
    '~',
    '-1',
    '1.5',
    'true',
    '"x"',
    '[]',
    '{}',
    'g',
    'zz',
    '[g, x, 3]',
    '"0000:02:20.0"',
    '02:01.0',
    'EINVAL',
    'einval',
    'ok',
    '{ errno: EIO }',
    '6.1',
    'nope.yaml',
    'qemu-rp.yaml',
    '*a',
    '&a x',
  ]);

  it('the base scenario, relative to examples/, is valid', () => {
    assert.equal(parseScenario(source, 'fuzz.yaml', { dir: EXAMPLES }).steps.length, 7);
  });

  it('mutated scenarios never throw anything but ScenarioFileError', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        check(ms.reduce(applyMutation, source));
      }),
      { numRuns: 600 * scale },
    );
  });
});
