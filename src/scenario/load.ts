/**
 * Reads a scenario file (YAML 1.2 or JSON; `schema.ts`) or throws one `ScenarioFileError` that
 * lists every problem as `file:line:col: path.to.field: what is wrong (what to do)`, like
 * topology files (the generic part is `../topology/yaml-file.ts`). After the schema, the steps
 * are checked as the runner will use them, so mistakes show before anything is opened:
 *
 * - a handle (`fd`, `device`, `group`, `container`, `close`, `fds` …) must be defined with `as:`
 *   by an earlier step; defining one again rebinds it (allowed);
 * - `open-group`, `open-cdev`, `bind.device`, `unbind` and `get-device.device` must be PCI addresses;
 * - `topology`, when given, must name a file, relative to the scenario file.
 * @module
 */

import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { BdfError, parseBdf } from '../pci/bdf.ts';
import {
  closest,
  FileError,
  type FileIssue,
  type FilePath,
  type FlatIssue,
  type LocatedDocument,
  parseYamlFile,
  readTextFile,
  show,
  type UnionContext,
  type YamlFileFormat,
  type ZodIssue,
} from '../topology/yaml-file.ts';
import { type Scenario, ScenarioSchema, type Step, StepSchema, stepVerb } from './schema.ts';

export type ScenarioFileIssue = FileIssue;

export class ScenarioFileError extends FileError {
  override readonly code = 'VFIO_RESET_E_SCENARIO_FILE';
  constructor(file: string, issues: ScenarioFileIssue[]) {
    super(file, issues);
    this.name = 'ScenarioFileError';
  }
}

// ---- what the schema says about steps ----------------------------------------------------------------

/** Keys any step may have besides its verb (as `stepVerb` skips them). */
const COMMON = new Set(['label', 'expect', 'duration', 'as']);
const STEP_SHAPES = StepSchema.options.map((o) => o.shape as Record<string, z.ZodType>);
/** Every step verb, in schema order: `STEP_VERBS[i]` is the verb of `StepSchema.options[i]`. */
export const STEP_VERBS: readonly string[] = STEP_SHAPES.map(
  (s) => Object.keys(s).find((k) => !COMMON.has(k)) ?? '?',
);

/** Where each verb names an fd: '' is the verb's own value, otherwise a field of it (`fds`: each entry). */
const FD_FIELDS: Readonly<Record<string, readonly string[]>> = {
  close: [''],
  'api-version': [''],
  'unset-container': [''],
  reset: [''],
  'check-extension': ['container'],
  'set-iommu': ['container'],
  'group-status': ['group'],
  'set-container': ['group', 'container'],
  'get-device': ['group'],
  'device-info': ['device'],
  'hot-reset-info': ['device'],
  'hot-reset': ['device', 'fds'],
  'bind-iommufd': ['device', 'iommufd'],
  'ioas-alloc': ['iommufd'],
  'attach-pt': ['device', 'pt'],
  'detach-pt': ['device'],
  'kvm-create-vm': [''],
  'kvm-create-device': ['vm'],
  'kvm-file': ['device', 'file'],
  ioctl: ['fd'],
  'irq-info': ['device'],
  'set-irq': ['device', 'fd'],
  'region-info': ['device'],
  'wait-event': ['fd'],
};

/** Where each verb names a PCI address. */
const BDF_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'open-group': [''],
  'open-cdev': [''],
  unbind: [''],
  bind: ['device'],
  'get-device': ['device'],
  'inject-error': [''],
  'unbind-while-open': [''],
};

/** The verb keys a step mapping has (normally one). */
function verbsOf(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  return Object.keys(input).filter((k) => STEP_VERBS.includes(k));
}

const isStepPath = (path: FilePath) =>
  path.length === 2 && path[0] === 'steps' && typeof path[1] === 'number';

function scenarioFields(path: FilePath, input: unknown): readonly string[] | null {
  if (path.length === 0) return Object.keys(ScenarioSchema.shape);
  if (isStepPath(path)) {
    const [verb] = verbsOf(input);
    return verb === undefined ? null : Object.keys(STEP_SHAPES[STEP_VERBS.indexOf(verb)]!);
  }
  if (path.length === 3 && path[0] === 'steps') {
    const field = path[2];
    if (field === 'duration') return ['min', 'max'];
    const i = STEP_VERBS.indexOf(String(field));
    const inner = i < 0 ? undefined : STEP_SHAPES[i]![String(field)];
    if (inner instanceof z.ZodObject) return Object.keys(inner.shape);
  }
  return null;
}

const EXAMPLE_STEP = '{ open: /dev/vfio/vfio, as: c }';

/** A step matched no member of the union: say which verb it has, or that it has none. */
function stepUnion(u: UnionContext): FlatIssue[] | null {
  const { path, input } = u;
  if (!isStepPath(path)) return null;
  const list = STEP_VERBS.join(', ');
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    return [
      {
        path,
        onKey: false,
        message: `expected a step (a mapping with one verb, e.g. ${EXAMPLE_STEP}), got ${show(input)}`,
      },
    ];
  const verbs = verbsOf(input);
  // One verb: that member's issues are the real ones (a wrong type inside it, an unknown field).
  if (verbs.length === 1) return u.flatten(u.branches[STEP_VERBS.indexOf(verbs[0]!)] ?? [], path);
  if (verbs.length > 1)
    return [
      {
        path: [...path, verbs[1]!],
        onKey: true,
        message: `a step has one verb, this one has ${verbs.join(' and ')} (split it into ${verbs.length} steps)`,
      },
    ];
  const unknown = Object.keys(input).filter((k) => !COMMON.has(k));
  if (unknown.length === 0)
    return [{ path, onKey: false, message: `the step has no verb; a step is one of: ${list}` }];
  const key = unknown[0]!;
  const near = closest(key, STEP_VERBS);
  return [
    {
      path: [...path, key],
      onKey: true,
      message: `unknown step "${key}"${near ? ` (did you mean ${near}?)` : ''}; a step is one of: ${list}`,
    },
  ];
}

const EXPECT = 'ok, an errno name such as EINVAL, a number, or a mapping of fields the result must contain';

/** zod reports a string `expect` that is neither ok nor an errno as a pattern mismatch; say what it takes. */
function scenarioMessage(iss: ZodIssue, path: FilePath): string | null {
  if (iss.code !== 'invalid_format' || path[path.length - 1] !== 'expect') return null;
  const input = (iss as { input?: unknown }).input;
  const upper =
    typeof input === 'string' && /^e[a-z0-9]+$/i.test(input)
      ? ` (errno names are upper case: ${input.toUpperCase()})`
      : '';
  return `expected ${EXPECT}, got ${show(input)}${upper}`;
}

const HANDLE = 'a handle name (defined with as:) or an fd number';

/** How the scenario format words its hints (see `YamlFileFormat`). */
export const SCENARIO_FORMAT: YamlFileFormat = {
  what: 'scenario',
  errorClass: ScenarioFileError,
  emptyMessage: 'the file is empty (it needs at least name: and steps:)',
  knownFields: scenarioFields,
  examples: {
    'open-group': '"0000:02:01.0"',
    'open-cdev': '"0000:02:01.0"',
    unbind: '"0000:02:01.0"',
    device: '"0000:02:01.0"',
    era: '"6.1"',
  },
  unionHints: {
    close: HANDLE,
    'api-version': HANDLE,
    'unset-container': HANDLE,
    reset: HANDLE,
    container: HANDLE,
    group: HANDLE,
    device: HANDLE,
    fd: HANDLE,
    fds: HANDLE,
    iommufd: HANDLE,
    pt: 'an IOAS handle (defined with ioas-alloc as:) or an object id',
    vm: HANDLE,
    file: HANDLE,
    'kvm-create-vm': HANDLE,
    expect: EXPECT,
    request: 'an ioctl name (VFIO_GET_API_VERSION) or number',
    checks: 'a scenario number or a rule id',
  },
  union: stepUnion,
  message: scenarioMessage,
};

// ---- loading ---------------------------------------------------------------------------------------

/**
 * Reads and checks a scenario file; every failure, including an unreadable file, is a
 * `ScenarioFileError`. `dir` is the file's absolute directory (what `topology` is relative to).
 */
export function loadScenarioFile(path: string): { scenario: Scenario; dir: string } {
  const dir = dirname(resolve(path));
  return { scenario: parseScenario(readTextFile(path, SCENARIO_FORMAT), path, { dir }), dir };
}

export interface ParseScenarioOptions {
  /** Directory `topology` is relative to (default: that of `fileName`); null skips the check. */
  dir?: string | null;
}

/** Parses scenario text (YAML 1.2 or JSON); `fileName` names it in messages. */
export function parseScenario(
  text: string,
  fileName = '<scenario>',
  opts: ParseScenarioOptions = {},
): Scenario {
  const dir = opts.dir === undefined ? dirname(resolve(fileName)) : opts.dir;
  return parseYamlFile(text, fileName, ScenarioSchema, SCENARIO_FORMAT, (value, located) => {
    const issues = [...checkSteps(value, located), ...checkTopology(value, dir, located)];
    if (issues.length > 0) located.fail(issues);
    return value;
  });
}

/** The value of `field` of a step's verb ('' is the verb's value itself). */
function fieldValue(step: Step, verb: string, field: string): unknown {
  const arg = (step as Record<string, unknown>)[verb];
  if (field === '') return arg;
  return arg !== null && typeof arg === 'object' ? (arg as Record<string, unknown>)[field] : undefined;
}

/** Handles used before an earlier step defines them, and fields that are not PCI addresses. */
function checkSteps(scenario: Scenario, located: LocatedDocument): FileIssue[] {
  const issues: FileIssue[] = [];
  const defs = scenario.steps.map((step, i) => definitions(step, i));
  const defined = new Set<string>();
  for (const [i, step] of scenario.steps.entries()) {
    const verb = stepVerb(step);
    const at = (field: string): FilePath => (field === '' ? ['steps', i, verb] : ['steps', i, verb, field]);

    for (const field of FD_FIELDS[verb] ?? []) {
      const v = fieldValue(step, verb, field);
      const uses: [FilePath, unknown][] = Array.isArray(v)
        ? v.map((x, j): [FilePath, unknown] => [[...at(field), j], x])
        : [[at(field), v]];
      for (const [path, name] of uses) {
        // Numbers are raw fds (for bad-fd cases); only names need a definition.
        if (typeof name !== 'string' || defined.has(name)) continue;
        issues.push(located.issue(path, undefinedHandle(name, defined, defs.slice(i + 1).flat(), located)));
      }
    }

    for (const field of BDF_FIELDS[verb] ?? []) {
      const v = fieldValue(step, verb, field);
      if (typeof v !== 'string') continue;
      try {
        parseBdf(v);
      } catch (e) {
        const reason = e instanceof BdfError ? e.reason : 'malformed';
        issues.push(
          located.issue(
            at(field),
            `"${v}" is not a PCI address (${reason}); write dddd:bb:dd.f or bb:dd.f in hex, e.g. "0000:02:01.0"`,
          ),
        );
      }
    }

    for (const d of defs[i]!) defined.add(d.name);
  }
  return issues;
}

/** The handles a step defines (`as:` on the step, `eventfd: <name>`, or inside `get-device`, `ioas-alloc`, `kvm-create-device`), with where. */
function definitions(step: Step, i: number): { name: string; path: FilePath }[] {
  const out: { name: string; path: FilePath }[] = [];
  if ('as' in step && typeof step.as === 'string') out.push({ name: step.as, path: ['steps', i, 'as'] });
  if ('get-device' in step && step['get-device'].as !== undefined)
    out.push({ name: step['get-device'].as, path: ['steps', i, 'get-device', 'as'] });
  if ('ioas-alloc' in step && step['ioas-alloc'].as !== undefined)
    out.push({ name: step['ioas-alloc'].as, path: ['steps', i, 'ioas-alloc', 'as'] });
  if ('eventfd' in step) out.push({ name: step.eventfd, path: ['steps', i, 'eventfd'] });
  if ('kvm-create-device' in step && step['kvm-create-device'].as !== undefined)
    out.push({ name: step['kvm-create-device'].as, path: ['steps', i, 'kvm-create-device', 'as'] });
  return out;
}

function undefinedHandle(
  name: string,
  defined: ReadonlySet<string>,
  later: { name: string; path: FilePath }[],
  located: LocatedDocument,
): string {
  const head = `handle '${name}' is not defined by an earlier step`;
  const after = later.find((d) => d.name === name);
  if (after)
    return `${head} (line ${located.position(after.path).line} defines it with \`as: ${name}\`; move that step before this one)`;
  const near = closest(name, [...defined]);
  if (near) return `${head} (did you mean ${near}? otherwise use \`as: ${name}\` on the step that opens it)`;
  return `${head} (use \`as: ${name}\` on the step that opens it)`;
}

function checkTopology(scenario: Scenario, dir: string | null, located: LocatedDocument): FileIssue[] {
  if (scenario.topology === undefined || dir === null) return [];
  const full = resolve(dir, scenario.topology);
  let why: string | null = null;
  try {
    if (!statSync(full).isFile()) why = 'is not a file';
  } catch {
    why = 'does not exist';
  }
  return why === null
    ? []
    : [
        located.issue(
          ['topology'],
          `${full} ${why} (the topology path is relative to the scenario file's directory, ${dir})`,
        ),
      ];
}
