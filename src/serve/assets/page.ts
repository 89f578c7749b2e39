/**
 * The one HTML page of `vfio-reset serve`. Script and style are separate files of this server
 * (`/app.js`, `/app.css`), so the page runs under a strict Content-Security-Policy; nothing is
 * loaded from anywhere else.
 * @module
 */

import { esc } from '../../render/svg/xml.ts';

export function pageHtml(origin: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vfio-reset · ${esc(origin)}</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1>vfio-reset</h1>
  <span id="host">${esc(origin)}</span>
  <span id="mode" class="tag"></span>
  <span class="spacer"></span>
  <form id="find" role="search"><input id="find-bdf" placeholder="find a BDF, e.g. 01:00.0" aria-label="find a function by address"></form>
  <label><input type="checkbox" id="fold" checked> fold alike functions</label>
</header>
<main>
  <section id="picture" aria-label="PCI topology" aria-busy="true"><p class="hint">Loading the topology…</p></section>
  <aside id="panel">
    <section id="info"><p class="hint">Click a function in the picture: its reset methods, what a hot reset would hit (highlighted) and who owns it.</p></section>
    <section id="actions" hidden>
      <h2>Reset on the simulated kernel</h2>
      <div class="row">
        <label>method
          <select id="method">
            <option value="auto">auto — QEMU's policy</option>
            <option value="function">function — VFIO_DEVICE_RESET</option>
            <option value="hot">hot — slot or bus reset</option>
          </select>
        </label>
        <button id="reset" type="button">Reset</button>
      </div>
      <div id="result" aria-live="polite"></div>
    </section>
    <section id="log" hidden>
      <h2>Kernel log of the last reset</h2>
      <p id="hotplug-note" class="alert" hidden></p>
      <ol id="events"></ol>
    </section>
    <p id="error" class="alert" role="alert" hidden></p>
  </aside>
</main>
</body>
</html>
`;
}
