/** What `demo` does: the walk-through of demo.ts, for people only. */

import type { Globals } from '../context.ts';
import { runDemo } from '../demo.ts';
import { UsageError } from '../errors.ts';
import { out } from '../io.ts';

export function demo(g: Globals): number {
  // A walk-through for people: with --json it would break the one-document rule.
  if (g.json)
    throw new UsageError(
      'demo is a walk-through for people and has no JSON form; use scan, info, plan or reset with --json',
    );
  return runDemo(out);
}
