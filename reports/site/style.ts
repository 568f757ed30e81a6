/**
 * The site's one stylesheet. Level colours always come with the level's
 * word; every text colour keeps a contrast of at least 4.5:1 on its
 * background. Below 640 px the matrix turns into one card per device.
 */
export const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#fff}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px;top:0;background:#fff;color:#1d4ed8;padding:.5em 1em;z-index:10}
.skip:focus{left:.5em}
header.top{display:flex;flex-wrap:wrap;gap:.5em 1.5em;align-items:center;padding:.5em 1em;background:#1f2937;color:#fff}
header.top a{color:#fff;text-decoration:none;margin-right:1em}
header.top .brand{font-weight:700}
main{padding:1em}
a{color:#1d4ed8}
footer{padding:1em;color:#4b5563;font-size:12px;border-top:1px solid #ddd}
h1 small,h4 small,h5 small{font-weight:400;color:#4b5563}
h1 code{font-size:inherit}
a:focus-visible,input:focus-visible,select:focus-visible,button:focus-visible,span[tabindex]:focus-visible,#grid:focus-visible{outline:3px solid #2563eb;outline-offset:1px}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5em;max-height:30em;overflow:auto}
#filters{display:flex;flex-wrap:wrap;gap:.75em;align-items:end;margin:.5em 0}
#filters label{display:flex;flex-direction:column;font-size:12px;color:#374151}
#filters label.inline{flex-direction:row;gap:.3em;align-items:center}
#filters input[type=search]{min-width:18em}
.hint{font-size:12px;color:#4b5563}
.legend h2{font-size:14px;margin:.3em 0}
.legend ul{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.2em 1.2em;font-size:12px}
.scroll{overflow:auto;max-height:80vh}
table.mx{border-collapse:separate;border-spacing:0;font-size:12px}
.mx th,.mx td{border-right:1px solid #e5e7eb;border-bottom:1px solid #e5e7eb;padding:2px 4px;white-space:nowrap}
.mx thead th{position:sticky;top:0;background:#f3f4f6;z-index:2}
.mx thead tr:nth-child(2) th{top:1.7em}
.mx thead th.corner{left:0;z-index:4}
.mx th.chk{vertical-align:bottom;height:9em}
.mx th.chk .vl{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500;display:inline-block}
.mx th a.tip{color:inherit;text-decoration:none;position:relative;display:inline-block}
.tip [role=tooltip]{display:none;position:absolute;left:0;top:100%;z-index:20;width:24em;white-space:normal;background:#111827;color:#fff;padding:.5em;border-radius:4px;font-weight:400;text-align:left;writing-mode:horizontal-tb;transform:none}
.tip:hover [role=tooltip],.tip:focus [role=tooltip]{display:block}
.mx th.fam{text-align:left;border-left:2px solid #6b7280}
.mx tbody th{position:sticky;left:0;background:#fff;text-align:left;z-index:1;max-width:22em;overflow:hidden;text-overflow:ellipsis}
.mx tbody th small{display:block;color:#4b5563;font-weight:400}
.mx input.pick{margin:0 .3em 0 0;vertical-align:middle}
.mx td.v{text-align:center;min-width:5.4em}
.mx td.v a,.mx td.v span{display:block;color:inherit;text-decoration:none}
.mx td.v b{display:block;font-weight:600}
.mx td.v small{display:block;font-size:10px;opacity:1}
.mx td i,.flag{font-style:normal;font-weight:700}
/* Cells a level filter or kernel diff does not pick turn grey, their words still readable (no opacity: contrast stays >= 4.5:1). */
.mx.vf td.v:not(.hit){background:#f3f4f6;color:#4b5563;font-weight:400}
.mx td.rg{box-shadow:inset 0 0 0 2px #7f1d1d}
.mx td.cf{outline:2px dashed #92400e;outline-offset:-3px}
tr.untested th{font-style:italic}
.v-offloaded{background:#d1fae5;color:#064e3b}
.v-partial{background:#fef3c7;color:#713f12}
.v-software{background:#e0e7ff;color:#312e81}
.v-broken{background:#fecaca;color:#7f1d1d;font-weight:700}
.v-flaky{background:#fae8ff;color:#701a75}
.v-inconclusive{background:#e5e7eb;color:#1f2937}
.v-not-tested{background:#fff;color:#4b5563}
.v-none{background:#fff;color:#4b5563}
.v-untested{background:repeating-linear-gradient(45deg,#fff7ed,#fff7ed 4px,#ffedd5 4px,#ffedd5 8px);color:#7c2d12}
.s-pass,.s-fail,.s-unsupported,.s-skip,.s-error{background:#fff;color:#374151;font-size:11px}
.s-fail,.s-error{color:#7f1d1d;font-weight:700}
.badge{display:inline-block;padding:0 .4em;border-radius:3px;border:1px solid rgba(0,0,0,.25)}
.flag{margin-left:.3em;color:#7f1d1d}
.claim{font-size:12px;color:#4b5563}
.alert{background:#fef2f2;border-left:4px solid #b91c1c;padding:.5em 1em}
.finding{font-size:16px;background:#fef2f2;border-left:4px solid #b91c1c;padding:.5em 1em}
.finding.ok{background:#ecfdf5;border-color:#047857}
table.list,table.kv,table.facts{border-collapse:collapse;margin:.5em 0}
table.list th,table.list td,table.kv th,table.kv td,table.facts th,table.facts td{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}
table.list thead th{position:sticky;top:0;background:#f3f4f6;z-index:1}
table.grid tbody th{position:sticky;left:0;background:#fff}
td.num{text-align:right}
td.msg,p.msg{max-width:50em;white-space:pre-wrap}
section.evidence{border-left:3px solid #d1d5db;padding-left:1em;margin:1em 0}
.crumbs{font-size:12px;margin-bottom:.5em}
.hexview{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;background:#f6f8fa;padding:.5em;overflow:auto;white-space:pre;line-height:1.5}
.hexview mark{background:#fde68a;color:#1b1f24;outline:1px solid #92400e}
.hexview .off{color:#4b5563}
ul.tree{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;list-style:none;padding-left:1em}
ul.tree ul{list-style:none;padding-left:1.5em}
pre.repro{background:#111827;color:#f9fafb}
dl.defs dt{font-weight:700;margin-top:.8em}
dl.defs dd{margin-left:1.5em}
.card{display:none}
@media (max-width:640px){
  main{padding:.5em}
  #filters input[type=search]{min-width:0;width:100%}
  #filters label{flex:1 1 45%}
  .scroll{max-height:none}
  table.mx thead{display:none}
  table.mx,table.mx tbody,table.mx tr{display:block}
  table.mx tr{border:1px solid #d1d5db;border-radius:6px;margin:.5em 0;padding:.3em;display:flex;flex-wrap:wrap;gap:2px}
  table.mx tr[hidden]{display:none}
  .mx tbody th{position:static;flex:1 1 100%;max-width:none;border:0;white-space:normal}
  .mx td.drv{display:none}
  .mx td.v{flex:1 1 30%;min-width:0;border:0;border-radius:3px;white-space:normal}
  .mx td.v::before{content:attr(data-c);display:block;font-size:10px;color:#1f2937;font-weight:400;overflow-wrap:anywhere}
  .tip [role=tooltip]{width:16em}
}
`;
