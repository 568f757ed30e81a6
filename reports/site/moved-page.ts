/**
 * 404.html: a static host serves it for any missing path. Cell pages were
 * once one file per cell (`c/DEVICE/CHECK.html`) and are now one per device
 * (`c/DEVICE.html#CHECK`): links to the old pages, kept in bug reports and
 * mail, land on the cell they meant.
 */
import { slug } from '../../matrix/identity.js';
import { page } from './html.js';

export function movedPage(checks: readonly string[], generatedAt: string): string {
  const bySlug = Object.fromEntries(checks.map((c) => [slug(c), c]));
  // JSON in a script element: "<" escaped so no check name can close it.
  const data = JSON.stringify(bySlug).replace(/</g, '\\u003c');
  const script = `<script>(function(){var m=/^(.*\\/)c\\/([^/]+)\\/([^/]+)\\.html$/.exec(location.pathname);var c=${data};
if(m&&c[m[3]]){location.replace(m[1]+'c/'+m[2]+'.html#'+encodeURIComponent(c[m[3]]));return;}
var r=/^(.*\\/)(?:c|d|r|pcap)\\/(?:[^/]+\\/)?[^/]*$/.exec(location.pathname);var a=document.getElementById('home');if(r&&a)a.href=r[1]+'index.html';})();</script>`;
  const body = `<h1>Page not found</h1><p>There is no page at this address. Cell pages were once one file per cell (<code>c/DEVICE/CHECK.html</code>); each device's cells are now one page, <code>c/DEVICE.html#CHECK</code>, and links to the old pages are sent there.</p><p><a id="home" href="index.html">The matrix</a></p>${script}`;
  // Links are relative to where the file lies (the site's root); served deeper, the script points "home" at the root.
  return page({ title: 'Page not found', root: '', body, generatedAt });
}
