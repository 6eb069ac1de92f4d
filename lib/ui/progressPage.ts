import { progressApp } from './progressApp.js';

const STYLE = `
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --card: #ffffff; --bg: #f5f7fa; --accent: #2f6fb0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg); }
header.top { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #1f3a5f; color: #fff; }
header.top h1 { margin: 0; font-size: 18px; font-weight: 600; }
header.top .sub { color: #c8d6e5; font-size: 13px; }
#connection { margin-left: auto; font-size: 12px; padding: 2px 10px; border-radius: 999px; background: #52606d; }
#connection.live { background: #2f9e44; }
#connection.down { background: #c92a2a; }
main { padding: 18px 24px 40px; max-width: 1500px; margin: 0 auto; }
#empty { color: var(--muted); padding: 40px 0; text-align: center; }
section.query { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px 10px; margin-bottom: 22px; box-shadow: 0 1px 2px rgba(16,42,67,.06); }
.head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 10px 14px; }
.head h2 { margin: 0; font-size: 18px; }
.ids { color: var(--muted); font-size: 12px; display: flex; gap: 14px; flex-wrap: wrap; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge { font-size: 11px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; padding: 2px 8px; border-radius: 999px; }
.badge.active { background: #d3f9d8; color: #2b8a3e; }
.badge.stopped { background: #e9ecef; color: #495057; }
.badge.failed { background: #ffe3e3; color: #c92a2a; }
.status { margin: 8px 0 4px; display: flex; gap: 10px; flex-wrap: wrap; align-items: center; }
.status .message { font-weight: 500; }
.flag { font-size: 12px; padding: 1px 8px; border-radius: 6px; border: 1px solid var(--line); color: var(--muted); }
.flag.on { border-color: #74c0fc; color: #1864ab; background: #e7f5ff; }
dl.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 8px 18px; margin: 12px 0 6px; }
.stat { border-left: 3px solid #d9e2ec; padding-left: 10px; }
dl.stats dt { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
dl.stats dd { margin: 0 0 4px; font-size: 15px; font-weight: 600; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(400px, 100%), 1fr)); gap: 14px; margin-top: 10px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px 6px; background: #fcfdfe; }
figcaption { display: flex; justify-content: space-between; gap: 8px; align-items: baseline; margin-bottom: 4px; }
figcaption .title { font-weight: 600; }
figcaption .note { color: var(--muted); font-size: 12px; }
.plot svg { width: 100%; height: auto; display: block; }
.plot .grid { stroke: #eef1f4; }
.plot .axisline { stroke: #9aa5b1; }
.plot .tick { fill: #7b8794; font-size: 10.5px; font-variant-numeric: tabular-nums; }
.plot .axis { fill: #9aa5b1; font-size: 10px; }
ul.legend { list-style: none; margin: 2px 0 4px; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.empty-note { margin: 2px 0 4px; color: var(--muted); font-size: 12px; }
.error { margin-top: 14px; border: 1px solid #ffc9c9; background: #fff5f5; border-radius: 8px; padding: 10px 14px; }
.error h3 { margin: 0 0 4px; font-size: 14px; color: #c92a2a; }
.error p { margin: 0 0 6px; }
.error pre { margin: 0; max-height: 160px; overflow: auto; font-size: 11.5px; color: #5c3b3b; white-space: pre-wrap; }
details.raw { margin-top: 12px; color: var(--muted); font-size: 12px; }
details.raw pre { max-height: 320px; overflow: auto; background: #f8f9fa; padding: 8px; border-radius: 6px; color: var(--ink); }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The progress page's HTML: the layout and styles; the charts come from `app.js` ({@link progressAppScript}). */
export function progressPageHtml(title: string, history: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
<script src="app.js" defer></script>
</head>
<body data-history="${history}">
<header class="top"><h1>${escapeHtml(title)}</h1><span class="sub">rxjs-structured-streaming · progress of streaming queries</span><span id="connection">connecting…</span></header>
<main id="queries"><p id="empty">No query yet: the page shows each query as soon as it starts.</p></main>
</body>
</html>
`;
}

/**
 * The page's script: {@link progressApp}'s source, called at once. Run from
 * the TypeScript sources by tsx (esbuild, which keeps function names with a
 * `__name(fn, "name")` helper), that source calls `__name`: the script
 * defines it.
 */
export function progressAppScript(): string {
  return `"use strict";\nvar __name = function (fn) { return fn; };\n(${progressApp.toString()})();\n`;
}
