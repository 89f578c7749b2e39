/**
 * `JSON.stringify(value, null, 2)` in pieces. A scan of a large host is a document of over a
 * gigabyte (every function lists its hot-reset scope), more than one JavaScript string may hold,
 * so the CLI writes documents as the pieces come: the top-level object's members one by one, and
 * the elements of its arrays one by one. The text is exactly what JSON.stringify gives.
 * @module
 */

/** What JSON.stringify leaves out of an object: undefined, functions and symbols. */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** Array elements stringified together: enough to amortise the call, small enough to stay far below the string limit. */
const BATCH = 256;

/**
 * The pieces, in order; joined they are `JSON.stringify(value, null, 2)`. Each piece is cut out of
 * JSON.stringify's own text for a one-member object (`{ key: value }` or `{ key: [some elements] }`),
 * so indentation and escaping are JSON.stringify's, not re-implemented here.
 */
export function* jsonPieces(value: unknown): Generator<string> {
  const isPlainObject =
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function';
  if (!isPlainObject) {
    yield JSON.stringify(value, null, 2) ?? 'undefined';
    return;
  }
  const members = Object.entries(value as Record<string, unknown>).filter(([, v]) => !omitted(v));
  if (members.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (const [i, [key, v]] of members.entries()) {
    if (Array.isArray(v) && v.length > 0) {
      const open = `{\n  ${JSON.stringify(key)}: [\n`;
      const close = '\n  ]\n}';
      yield open.slice(2);
      for (let j = 0; j < v.length; j += BATCH) {
        const text = JSON.stringify({ [key]: v.slice(j, j + BATCH) }, null, 2);
        yield text.slice(open.length, text.length - close.length);
        yield j + BATCH < v.length ? ',\n' : '';
      }
      yield close.slice(0, -2);
    } else {
      const text = JSON.stringify({ [key]: v }, null, 2);
      yield text.slice(2, -2);
    }
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
