/**
 * Bundles src/rig/guest.ts into one ES module for the guest. Measured under TCG: `node --import
 * tsx` spends ~30 s transpiling the project module by module (each an esbuild round trip), while
 * plain node loads a ~1.5 MB bundle in ~2 s. esbuild is the one tsx itself runs on (a dependency
 * of tsx, so present wherever tsx is). koffi stays external: it is a native module, loaded from
 * the repo's node_modules next to the bundle.
 * @module
 */

import { buildSync } from 'esbuild';

export function bundleGuest(repo: string, outFile: string): void {
  buildSync({
    absWorkingDir: repo,
    entryPoints: ['src/rig/guest.ts'],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['koffi'],
    // CommonJS dependencies call require(); an ES module has none of its own.
    banner: {
      js: "import { createRequire as __rigRequire } from 'node:module'; const require = __rigRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
}
