/**
 * Mutations of a valid text file for fuzzing parsers: cut, insert, duplicate, drop, swap or
 * re-indent lines, or replace a value with one of the format's tricky values. Shared by every
 * file-format fuzz test.
 */
import fc from 'fast-check';

export function textMutation(insertions: fc.Arbitrary<string>, values: readonly string[]) {
  return fc.oneof(
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), s: insertions }),
    fc.record({ op: fc.constant('dupLine' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('dropLine' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('swapLines' as const), at: fc.nat(), to: fc.nat() }),
    fc.record({ op: fc.constant('indent' as const), at: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
    fc.record({ op: fc.constant('replaceValue' as const), at: fc.nat(), v: fc.constantFrom(...values) }),
  );
}

export type TextMutation = ReturnType<typeof textMutation> extends fc.Arbitrary<infer T> ? T : never;

export function applyMutation(src: string, m: TextMutation): string {
  const lines = src.split('\n');
  const li = (n: number) => n % lines.length;
  switch (m.op) {
    case 'delete': {
      const at = m.at % (src.length + 1);
      return src.slice(0, at) + src.slice(at + m.len);
    }
    case 'insert': {
      const at = m.at % (src.length + 1);
      return src.slice(0, at) + m.s + src.slice(at);
    }
    case 'dupLine':
      lines.splice(li(m.at), 0, lines[li(m.at)]!);
      return lines.join('\n');
    case 'dropLine':
      lines.splice(li(m.at), 1);
      return lines.join('\n');
    case 'swapLines': {
      const a = li(m.at);
      const b = li(m.to);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\n');
    }
    case 'indent': {
      const i = li(m.at);
      const l = lines[i]!;
      lines[i] = m.by >= 0 ? ' '.repeat(m.by) + l : l.replace(new RegExp(`^ {0,${-m.by}}`), '');
      return lines.join('\n');
    }
    case 'replaceValue': {
      const i = li(m.at);
      lines[i] = lines[i]!.replace(/:\s.*$/, `: ${m.v}`);
      return lines.join('\n');
    }
  }
}

/** YAML-looking noise: YAML's punctuation, a few letters and the format's own keywords. */
export function yamlishText(keywords: readonly string[]) {
  return fc.string({
    unit: fc.constantFrom(...'abc:01. -\n\t"\'{}[],#&*!|>?%@`xyz\\'.split(''), ...keywords),
    maxLength: 120,
  });
}

/** Values that break topology files in interesting ways (types, YAML aliases, near-BDFs). */
export const TOPOLOGY_TRICKY_VALUES = [
  '',
  'null',
  '~',
  '0x1f',
  '-1',
  '1e9',
  'true',
  '"x"',
  '[]',
  '{}',
  '01:00.0',
  '"00:00.0"',
  'none',
  'full',
  'unknown',
  '"16"',
  '32',
  '*a',
  '&a x',
] as const;

/** Text that looks like an `lspci -xxxx` dump: hex, colons, addresses and its keyword lines. */
export function lspciishText() {
  return fc.string({
    unit: fc.constantFrom(
      ...'0123456789abcdefABx:. \t\n\r-[]()'.split(''),
      '00: ',
      ' 00',
      ' ff',
      '00:02.0 ',
      '\tPhysical Slot: ',
      '\tKernel driver in use: ',
    ),
    maxLength: 160,
  });
}
