/** `info <bdf>`: one function's reset methods, hot-reset scope, problems and what must be owned. */
import { infoDocument } from '../../render/json.ts';
import { renderInfo } from '../../render/text.ts';
import { findFunction, type Globals, inventoryOf, json, out, type RegisterCommand } from '../context.ts';
import { namerOf } from '../names.ts';

function info(g: Globals, bdfText: string): number {
  const inv = inventoryOf(g);
  const f = findFunction(inv, bdfText);
  if (g.json) json(infoDocument(inv, f));
  else out(renderInfo(inv, f, namerOf(g)));
  return 0;
}

export const registerInfo: RegisterCommand = (p, ctx) => {
  p.command('info')
    .description('reset methods, hot-reset scope, problems and what must be owned, for one function')
    .argument('<bdf>', 'function address, e.g. 0000:01:00.0 or 01:00.0')
    .action(ctx.act('info', (bdf: string) => info(ctx.globals(), bdf)));
};
