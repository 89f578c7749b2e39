/** What `info` does: one function's reset methods, hot-reset scope, problems and what must be owned. */
import { infoDocument } from '../../render/json.ts';
import { renderInfo } from '../../render/text.ts';
import { findFunction, type Globals, inventoryOf, openGlobalHost } from '../context.ts';
import { json, out } from '../io.ts';
import { namerOf } from '../names.ts';

export async function info(g: Globals, bdfText: string): Promise<number> {
  const inv = inventoryOf(g, await openGlobalHost(g));
  const f = findFunction(inv, bdfText);
  if (g.json) json(infoDocument(inv, f));
  else out(renderInfo(inv, f, namerOf(g)));
  return 0;
}
