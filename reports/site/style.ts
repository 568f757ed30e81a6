/** The site's one stylesheet. Verdict colours always come with the verdict's text. */
export const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#fff}
[hidden]{display:none!important}
header.top{display:flex;gap:1.5em;align-items:center;padding:.5em 1em;background:#1f2937;color:#fff}
header.top a{color:#fff;text-decoration:none;margin-right:1em}
header.top .brand{font-weight:700}
main{padding:1em}
footer{padding:1em;color:#555;font-size:12px;border-top:1px solid #ddd}
h1 small,h4 small{font-weight:400;color:#555}
h1 code{font-size:inherit}
a:focus-visible,input:focus-visible,select:focus-visible,span[tabindex]:focus-visible{outline:3px solid #2563eb;outline-offset:1px}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5em;max-height:30em;overflow:auto}
#filters{display:flex;flex-wrap:wrap;gap:.75em;align-items:end;margin:.5em 0}
#filters label{display:flex;flex-direction:column;font-size:12px;color:#333}
#filters input{min-width:18em}
.hint{font-size:12px;color:#555}
.scroll{overflow:auto;max-height:80vh}
table.mx{border-collapse:separate;border-spacing:0;font-size:12px}
.mx th,.mx td{border-right:1px solid #e5e7eb;border-bottom:1px solid #e5e7eb;padding:2px 4px;white-space:nowrap}
.mx thead th{position:sticky;top:0;background:#f3f4f6;z-index:2}
.mx thead tr:nth-child(2) th{top:1.6em}
.mx th.chk{vertical-align:bottom;height:9em}
.mx th.chk span{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500}
.mx th.fam{text-align:left;border-left:2px solid #9ca3af}
.mx tbody th{position:sticky;left:0;background:#fff;text-align:left;z-index:1;max-width:22em;overflow:hidden;text-overflow:ellipsis}
.mx tbody th small{display:block;color:#666;font-weight:400}
.mx td.v{text-align:center;min-width:3.6em}
.mx td.v a,.mx td.v span{display:block;color:inherit;text-decoration:none}
.mx td i,.flag{font-style:normal;font-weight:700}
.mx.vf td.v:not(.hit){opacity:.25}
.mx td.rg{box-shadow:inset 0 0 0 2px #7f1d1d}
.mx td.cf{outline:2px dashed #b45309;outline-offset:-3px}
tr.untested th{font-style:italic}
.v-pass{background:#d1fae5;color:#064e3b}
.v-fail{background:#fecaca;color:#7f1d1d;font-weight:700}
.v-unsupported{background:#e0e7ff;color:#312e81}
.v-skip{background:#f3f4f6;color:#374151}
.v-error{background:#fde68a;color:#78350f;font-weight:700}
.v-none{background:#fff;color:#9ca3af}
.v-untested{background:repeating-linear-gradient(45deg,#fff7ed,#fff7ed 4px,#ffedd5 4px,#ffedd5 8px);color:#7c2d12}
.badge{display:inline-block;padding:0 .4em;border-radius:3px;border:1px solid rgba(0,0,0,.15)}
.flag{margin-left:.3em;color:#7f1d1d}
.claim{font-size:12px;color:#555}
.alert{background:#fef2f2;border-left:4px solid #b91c1c;padding:.5em 1em}
table.list,table.kv,table.facts{border-collapse:collapse;margin:.5em 0}
table.list th,table.list td,table.kv th,table.kv td,table.facts th,table.facts td{border:1px solid #e5e7eb;padding:3px 6px;text-align:left;vertical-align:top}
td.num{text-align:right}
td.msg,p.msg{max-width:50em;white-space:pre-wrap}
section.evidence{border-left:3px solid #d1d5db;padding-left:1em;margin:1em 0}
.crumbs{font-size:12px;margin-bottom:.5em}
ul.legend{list-style:none;padding:0}
`;
