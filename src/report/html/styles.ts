/**
 * The report's stylesheet. Static text: no data from a dump or bundle is ever written into CSS, so a
 * `</style>` in a rule comment can only ever appear as escaped element text.
 */
export const REPORT_CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--card:#f6f8fa;
--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--info:#0969da;--unknown:#8250df;--dup:#fd8c73;--bar:#54aeff;
--mark-trace:#ddf4ff;--mark-ev:#ffebe9;--code:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#151b23;
--ok:#3fb950;--bad:#f85149;--warn:#d29922;--info:#4493f8;--unknown:#ab7df8;--dup:#f0883e;--bar:#1f6feb;
--mark-trace:#0c2d6b;--mark-ev:#4c1d1d;--code:#151b23}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:16px 0 6px}h4{font-size:.9rem;margin:12px 0 4px}
.meta{color:var(--muted);font-size:.85rem;margin:0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.82rem}
code{overflow-wrap:anywhere;white-space:pre-wrap}
.verdict{margin:16px 0;padding:14px 16px;border-radius:8px;border:1px solid var(--line);border-left:6px solid var(--ok);background:var(--card);font-size:1.05rem}
.verdict.broken{border-left-color:var(--bad)}.verdict .label{font-weight:700;margin-right:6px}
.verdict.broken .label{color:var(--bad)}.verdict.ok .label{color:var(--ok)}
.verdict.undecided{border-left-color:var(--unknown)}.verdict.undecided .label{color:var(--unknown)}
.question{color:var(--muted);font-size:.9rem;margin-top:6px}
.checks{list-style:none;padding:0;margin:0;display:grid;gap:4px}
.checks li{display:grid;grid-template-columns:5.5em 9em 1fr;gap:8px;align-items:baseline}
.st{font-weight:700;font-size:.8rem;text-transform:uppercase}
.st-ok{color:var(--ok)}.st-broken{color:var(--bad)}.st-risk{color:var(--warn)}.st-unknown{color:var(--unknown)}.st-neutral{color:var(--muted)}
.path-layout{display:grid;grid-template-columns:minmax(0,max-content) minmax(0,1fr);gap:16px;align-items:start}
.panels .evidence li{grid-template-columns:1fr;gap:0}.panels .checks li{grid-template-columns:5.5em 1fr}.panels .checks li>:last-child{grid-column:1/-1}
.panels{position:sticky;top:8px;max-height:calc(100vh - 16px);overflow-y:auto}.panels .panel{margin-top:0}
.path-layout.stacked{grid-template-columns:1fr}.path-layout.stacked .panels{position:static;max-height:none}
@media (max-width:900px){.path-layout{grid-template-columns:1fr}.panels{position:static;max-height:none}}
.diagram-wrap{overflow-x:auto;text-align:center;border:1px solid var(--line);border-radius:8px;padding:8px;background:var(--card)}
svg text{fill:var(--fg);font-family:system-ui,sans-serif}
svg .sub{fill:var(--muted);font-size:11px}svg .title{font-size:13px;font-weight:600}
svg .box rect{fill:var(--bg);stroke:var(--line);stroke-width:1.5}
svg .box.ok rect{stroke:var(--ok)}svg .box.broken rect{stroke:var(--bad);stroke-width:2.5}
svg .box.cited rect{stroke:var(--warn);stroke-width:2}svg .st-cited{fill:var(--warn)}
svg .box.unknown rect{stroke:var(--unknown);stroke-dasharray:4 3}
svg .box.link rect{fill:var(--mark-ev)}
svg .st-ok{fill:var(--ok)}svg .st-broken{fill:var(--bad)}svg .st-unknown{fill:var(--unknown)}
svg [role=button]{cursor:pointer}svg [role=button]:focus{outline:none}
svg [role=button]:focus rect,svg [role=button]:hover rect{stroke-width:3}
svg .edge path{stroke:var(--muted);stroke-width:1.5;fill:none}
svg .edge .hit{fill:transparent;stroke:none}
svg .edge.broken path.line{stroke:var(--bad);stroke-width:3;stroke-dasharray:7 4}
svg .edge.broken text{fill:var(--bad);font-weight:700;font-size:12px}
svg .arrow{fill:var(--muted)}svg .edge.broken .arrow{fill:var(--bad)}
svg .kind{fill:var(--muted);font-size:10px;text-transform:uppercase;letter-spacing:.04em}
.panel{border:1px solid var(--line);border-left:4px solid var(--info);border-radius:6px;padding:10px 14px;margin:10px 0;background:var(--card)}
.panel.broken{border-left-color:var(--bad)}
.panel h3{margin-top:0}
.hint{color:var(--muted);font-size:.85rem}
.toolbar{display:flex;gap:6px;flex-wrap:wrap;margin:0 0 10px}
button{font:inherit;font-size:.85rem;color:var(--fg);background:var(--card);border:1px solid var(--line);border-radius:6px;padding:3px 10px;cursor:pointer}
button[aria-pressed=false]{opacity:.55}button:focus-visible{outline:2px solid var(--info);outline-offset:2px}
.finding{border:1px solid var(--line);border-radius:8px;padding:10px 14px;margin:8px 0}
.finding header{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap}
.sev{font-size:.75rem;font-weight:700;text-transform:uppercase;border-radius:4px;padding:1px 6px;color:#fff}
.sev-error{background:var(--bad)}.sev-warning{background:var(--warn)}.sev-info{background:var(--info)}
.code{font-weight:600}.subject{color:var(--muted);font-size:.85rem}
.evidence{list-style:none;margin:6px 0;padding:0}
.evidence li{display:grid;grid-template-columns:minmax(8em,max-content) 1fr;gap:10px;padding:2px 6px;background:var(--code);border-radius:4px;margin:2px 0}
.evidence .where{color:var(--info);white-space:nowrap}
.fix{margin:6px 0 0}.fix b{color:var(--ok)}.refs{margin:2px 0 0;font-size:.85rem;color:var(--muted)}
.more{color:var(--muted);font-style:italic;font-size:.85rem}
.chart-wrap{overflow-x:auto}
svg .bar-total{fill:var(--bar)}svg .bar-dup{fill:var(--dup)}svg .outlier .bar-total{stroke:var(--bad);stroke-width:2}
svg .axis line{stroke:var(--line)}svg .axis text,svg .value{fill:var(--muted);font-size:11px}
svg .outlier-label{fill:var(--bad);font-weight:700;font-size:11px}svg .node-label{font-size:12px}
.legend{display:flex;gap:16px;font-size:.85rem;color:var(--muted);margin:4px 0}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:4px}
.sw-total{background:var(--bar)}.sw-trace{background:var(--mark-trace);border:1px solid var(--info)}.sw-ev{background:var(--mark-ev);border:1px solid var(--bad)}.sw-svc{background:var(--card);border:1px solid var(--fg)}.sw-dup{background:var(--dup)}.sw-out{border:2px solid var(--bad)}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.row-outlier td:first-child{border-left:4px solid var(--bad)}
.rules td.ln{text-align:right;color:var(--muted);width:6em;font-variant-numeric:tabular-nums;white-space:nowrap}
.rules tr.mark-trace td{background:var(--mark-trace)}.rules tr.mark-evidence td{background:var(--mark-ev)}.rules tr.mark-service td{background:var(--card);font-weight:600}
.rules tr.gap td{color:var(--muted);text-align:center;padding:0}
.rv h3 button{width:100%;text-align:left;font-weight:600}
footer{margin-top:40px;color:var(--muted);font-size:.8rem}
a{color:var(--info)}
@media print{:root{--bg:#fff;--fg:#000;--card:#fff;--code:#f6f8fa;--line:#bbb;--muted:#555;--mark-trace:#ddf4ff;--mark-ev:#ffebe9}
body{font-size:11pt}.panel.broken[hidden]{display:block}main{max-width:none;padding:0}
.toolbar,footer button{display:none}.diagram-wrap{border:none;background:none}
.path-layout{display:block}.panels{position:static;max-height:none;overflow:visible}
.finding,.panel,svg{break-inside:avoid}h2{break-after:avoid}
a{color:inherit;text-decoration:none}}
`;
