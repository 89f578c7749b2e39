/** `scan`: the PCI tree with group, driver, reset methods and hot-reset scope per function. */
import { scanDocument } from '../../render/json.ts';
import { renderScan } from '../../render/text.ts';
import { type Globals, inventoryOf, json, out, type RegisterCommand } from '../context.ts';

function scan(g: Globals): number {
  const inv = inventoryOf(g);
  if (g.json) json(scanDocument(inv));
  else out(renderScan(inv));
  return 0;
}

export const registerScan: RegisterCommand = (p, ctx) => {
  p.command('scan')
    .description('the PCI tree with IOMMU group, driver, reset methods and hot-reset scope per function')
    .action(ctx.act('scan', () => scan(ctx.globals())));
};
