/**
 * The few XML helpers the SVG writer needs: escaping (every text and attribute value goes through
 * `esc`) and element building with attributes in a fixed order, so output is byte-identical for the
 * same input.
 * @module
 */

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text and attribute values; also drops characters XML 1.0 cannot carry at all. */
export function esc(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what XML forbids
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export type Attrs = Record<string, string | number | null | undefined>;

function attrText(a: Attrs): string {
  let out = '';
  for (const [k, v] of Object.entries(a))
    if (v !== null && v !== undefined) out += ` ${k}="${esc(String(v))}"`;
  return out;
}

/** `<name a="…">children</name>`, or self-closing without children. Children are already XML. */
export function el(name: string, a: Attrs, ...children: string[]): string {
  const body = children.join('');
  return body === '' ? `<${name}${attrText(a)}/>` : `<${name}${attrText(a)}>${body}</${name}>`;
}

/** A text element; `s` is escaped here. */
export function text(a: Attrs, s: string): string {
  return `<text${attrText(a)}>${esc(s)}</text>`;
}

/** A `<title>` child: the tooltip a browser shows on hover, and what a screen reader reads. */
export function title(s: string): string {
  return `<title>${esc(s)}</title>`;
}

/** Shortens `s` to at most `max` characters, marking the cut with an ellipsis. */
export function fit(s: string, max: number): string {
  if (max <= 0) return '';
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}
