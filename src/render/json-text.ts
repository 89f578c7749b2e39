/**
 * `JSON.stringify(value, null, 2)` in pieces. A scan of a large host is a document of over a
 * gigabyte (every function lists its hot-reset scope), more than one JavaScript string may hold,
 * so the CLI writes documents as the pieces come: the top-level object's members one by one, and
 * the elements of its arrays one by one. The text is exactly what JSON.stringify gives.
 * @module
 */

/** `JSON.stringify(v, null, 2)` shifted right by `pad` (its nested lines): JSON text has no raw newline inside a string. */
function nested(v: unknown, pad: string): string {
  const text = JSON.stringify(v, null, 2) as string | undefined;
  return text === undefined ? 'null' : text.replaceAll('\n', `\n${pad}`);
}

/** What JSON.stringify leaves out of an object: undefined, functions and symbols. */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** The pieces, in order; joined they are `JSON.stringify(value, null, 2)`. */
export function* jsonPieces(value: unknown): Generator<string> {
  const isPlainObject =
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  if (!isPlainObject) {
    yield nested(value, '');
    return;
  }
  const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => !omitted(v));
  if (members.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (const [i, [key, v]] of members.entries()) {
    yield `  ${JSON.stringify(key)}: `;
    if (Array.isArray(v) && v.length > 0) {
      yield '[\n';
      for (let j = 0; j < v.length; j++)
        yield `    ${nested(v[j], '    ')}${j < v.length - 1 ? ',\n' : '\n'}`;
      yield '  ]';
    } else yield nested(v, '  ');
    yield i < members.length - 1 ? ',\n' : '\n';
  }
  yield '}';
}

/** The pieces gathered into strings of about `size` characters (fewer, larger writes). */
export function* jsonChunks(value: unknown, size = 1 << 20): Generator<string> {
  let buf: string[] = [];
  let len = 0;
  for (const piece of jsonPieces(value)) {
    buf.push(piece);
    len += piece.length;
    if (len >= size) {
      yield buf.join('');
      buf = [];
      len = 0;
    }
  }
  if (buf.length > 0) yield buf.join('');
}
