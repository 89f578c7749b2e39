/** What `dump` does: the sysfs files vfio-reset reads, written out from the chosen host. */
import { writeSysfsDump } from '../../host/dump.ts';
import { type Globals, openGlobalHost } from '../context.ts';
import { json, out } from '../io.ts';

export async function dump(g: Globals, dir: string): Promise<number> {
  const opened = await openGlobalHost(g);
  const s = writeSysfsDump(opened.reader, dir);
  if (g.json) json({ schemaVersion: 1, command: 'dump', ok: true, ...s });
  else {
    out(
      `wrote ${s.functions} functions (${s.files} files, ${s.links} links) from ${opened.origin} to ${s.dir}\n`,
    );
    if (s.partialConfig.length > 0) {
      out(
        `note: config space of ${s.partialConfig.length} functions was cut to 64 bytes (not root); capabilities will be unknown\n`,
      );
    }
  }
  return 0;
}
