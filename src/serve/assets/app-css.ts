/** Style of the local page; the picture's own colours live in the SVG (render/svg/style.ts). */
export const APP_CSS = `
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column; font: 14px/1.4 system-ui, 'DejaVu Sans', sans-serif; color: #1f2328; }
header { display: flex; align-items: center; gap: 12px; padding: 6px 12px; white-space: nowrap; min-width: 0; border-bottom: 1px solid #d0d7de; background: #f6f8fa; }
header h1 { font-size: 16px; margin: 0; }
header .spacer { flex: 1; }
#host { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
header label { font-size: 13px; }
.tag { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #ddf4ff; color: #0969da; }
.tag.real { background: #fff8c5; color: #7d4e00; }
#find-bdf { width: 190px; font: inherit; padding: 2px 6px; }
main { flex: 1; display: flex; min-height: 0; }
#picture { flex: 1; overflow: auto; min-width: 0; }
#picture svg { display: block; }
#panel { width: 450px; flex: none; overflow: auto; border-left: 1px solid #d0d7de; padding: 8px 14px 16px; font-size: 13px; }
#panel h2 { font-size: 14px; margin: 12px 0 6px; }
#panel h2 small { font-weight: normal; color: #57606a; }
.hint { color: #57606a; }
.alert { background: #ffebe9; border: 1px solid #ff8182; border-radius: 6px; padding: 6px 8px; }
.ok { background: #dafbe1; border: 1px solid #4ac26b; border-radius: 6px; padding: 6px 8px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 4px 0; }
dt { color: #57606a; }
dd { margin: 0; }
code, .mono, table.scope td { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; }
table.scope { border-collapse: collapse; margin: 4px 0; }
table.scope td { padding: 1px 8px 1px 0; }
table.scope tr.blocker td { color: #c62828; }
ul.problems { padding-left: 18px; margin: 4px 0; }
li.sev-blocker::marker { content: '✗ '; color: #c62828; }
li.sev-warning::marker { content: '! '; color: #b26a00; }
li.sev-info::marker { content: 'i '; color: #57606a; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.swatch.scope { background: #ffe08a; border: 2px solid #bf8700; }
.swatch.blocker { border: 2px dashed #c62828; }
.swatch.owner { border: 3px solid #57606a; }
.row { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
button { font: inherit; padding: 3px 14px; }
select { font: inherit; }
ol#events { font-family: 'DejaVu Sans Mono', monospace; font-size: 11.5px; padding-left: 0; list-style: none; margin: 4px 0; }
ol#events li { white-space: pre-wrap; word-break: break-all; }
ol#events li.ev-hotplug { color: #c62828; font-weight: bold; }
ol#events li.ev-reset { color: #0969da; }
.members button { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; margin: 2px; padding: 1px 6px; }

/* The picture: what a click highlights. */
svg .fn { cursor: pointer; }
svg .fn:hover .card { stroke: #57606a; stroke-width: 1; }
svg.has-selection .fn { opacity: 0.4; }
svg.has-selection .group-box { opacity: 0.45; }
svg.has-selection .fn.hl-scope, svg.has-selection .fn.hl-selected, svg.has-selection .group-box.hl-owner { opacity: 1; }
svg .fn.hl-scope .card { fill: #ffe08a; fill-opacity: 0.75; stroke: #bf8700; stroke-width: 2; }
svg .fn.hl-selected .card { stroke: #0969da; stroke-width: 3; }
svg .fn.hl-blocker .card { stroke: #c62828; stroke-width: 2.5; stroke-dasharray: 5 3; }
svg .group-box.hl-owner { stroke-width: 3; }
svg .domain.hl-domain { stroke-width: 3.5; }
`;
