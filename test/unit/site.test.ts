import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregate } from '../../matrix/aggregate.js';
import type { RunRecord } from '../../matrix/record.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { siteReporter } from '../../reports/site/index.js';
import { paths } from '../../reports/site/html.js';
import { kernelCodes } from '../../reports/site/matrix-page.js';
import type { Files, StoredArtifact } from '../../reports/types.js';
import { e1000Target, result, runRecord, vethRun } from '../fixtures/records.js';

function build(runs: RunRecord[], artifacts: StoredArtifact[] = []): Files {
  return siteReporter.render({ runs, matrix: aggregate(runs), generatedAt: '2025-06-01T00:00:00Z', source: 'test', artifacts });
}

const text = (files: Files, path: string): string => {
  const v = files.get(path);
  if (typeof v !== 'string') throw new Error(`no text file ${path}`);
  return v;
};

const htmlFiles = (files: Files): [string, string][] => [...files].filter(([p]) => p.endsWith('.html')) as [string, string][];

const HOSTILE = '<script>alert(1)</script>';

function hostileRuns(): RunRecord[] {
  const a = runRecord([e1000Target([result('tx-csum/ipv4-tcp', 'pass')], { kernel: '6.1.0' })]);
  const b = runRecord([
    e1000Target(
      [
        result('tx-csum/ipv4-tcp', 'fail', 'offload-on', `checksum ${HOSTILE} & <img src=x onerror=alert(2)>`),
        {
          ...result('tx-csum/ipv6-udp', 'fail', 'offload-on', 'bad'),
          evidence: { pcap: 'fail.pcap', frames: [{ hex: '00ff', reason: `<b>bold</b>` }], note: HOSTILE },
        },
      ],
      { kernel: '6.2.0', device: { model: 'e1000', description: `Intel ${HOSTILE}` } },
    ),
  ]);
  const c = runRecord([
    e1000Target([result('zc/sendfile-0', 'pass')], {
      driver: { name: HOSTILE, version: '"><svg onload=x>', firmware: "' onmouseover='x", bus: '' },
    }),
  ]);
  return [a, b, c];
}

describe('website', () => {
  it('has the matrix, attention page, downloads, one page per device and per cell', () => {
    const runs = [vethRun(), ...syntheticRuns({ devices: 4, checks: 6, kernels: 3, devicesPerRun: 2 })];
    const m = aggregate(runs);
    const files = build(runs);
    for (const p of ['index.html', 'attention.html', 'matrix-data.js', 'matrix.js', 'style.css', 'matrix.json', 'matrix.csv'])
      expect(files.has(p)).toBe(true);
    const cellCount = Object.values(m.cells).reduce((n, c) => n + Object.keys(c).length, 0);
    // One page holds a device's cells, one section each, addressed by its check as the fragment.
    const cellPages = htmlFiles(files).filter(([p]) => p.startsWith('c/'));
    expect(cellPages).toHaveLength(Object.values(m.cells).filter((c) => Object.keys(c).length > 0).length);
    for (const d of m.devices)
      for (const check of Object.keys(m.cells[d.key] ?? {})) {
        const [page, id] = paths.cell(d, check).split('#');
        expect(text(files, page!)).toContain(`<section class="cell" id="${id}"`);
      }
    expect(cellPages.reduce((n, [, html]) => n + (html.match(/<section class="cell" /g) ?? []).length, 0)).toBe(cellCount);
    expect(htmlFiles(files).filter(([p]) => p.startsWith('d/'))).toHaveLength(m.devices.length);
    expect(JSON.parse(text(files, 'matrix.json')).cells).toHaveLength(cellCount);
    expect(() => new Function(text(files, 'matrix.js'))).not.toThrow();
    expect(() => new Function(text(files, 'cell.js'))).not.toThrow();
  });

  it('links only to files it contains', () => {
    const runs = hostileRuns();
    const files = build(runs, [{ runId: runs[1]!.id, path: 'fail.pcap', sha256: 'ab'.repeat(32), data: new Uint8Array([1, 2, 3]) }]);
    let links = 0;
    for (const [path, html] of htmlFiles(files)) {
      for (const m of html.matchAll(/(?:href|src)="([^"#]+)(?:#[^"]*)?"/g)) {
        if (m[1] === 'data:,') continue; // the empty favicon that spares a 404
        const target = posix.normalize(posix.join(posix.dirname(path), m[1]!.replace(/&amp;/g, '&')));
        expect(files.has(target), `${path} links to ${m[1]}`).toBe(true);
        links++;
      }
    }
    expect(links).toBeGreaterThan(50);
  });

  it('keeps untested seed devices as rows that say so', () => {
    const html = text(build([vethRun()]), 'index.html');
    for (const driver of ['3c59x', 'acenic', 'sunhme', 'skge/sk98lin']) expect(html).toContain(`data-driver="${driver}"`);
    expect(html.match(/<tr [^>]*class="untested"/g)).toHaveLength(4);
    expect(html).toContain('not yet tested');
  });

  it('marks regressions and claimed-but-failed cells in text, and lists them', () => {
    const files = build(hostileRuns());
    const index = text(files, 'index.html');
    // The level in words, both marks spoken, the plain verdict underneath.
    expect(index).toMatch(
      /<td class="v v-broken f\d+ rg cf"><a [^>]*><b>BROKEN<\/b><i [^>]*>▼<span class="sr"> regression<\/span><\/i><i [^>]*>!<span class="sr"> claimed by the driver<\/span><\/i><small>fail<\/small><\/a><\/td>/,
    );
    const attention = text(files, 'attention.html');
    expect(attention).toContain('<span id="regressions">1 regression(s)</span>');
    expect(attention).toMatch(/regression, first broken on 6\.2\.0: offload-on: checksum/);
  });

  it('escapes every driver name, device and message', () => {
    const files = build(hostileRuns(), []);
    for (const [path, html] of htmlFiles(files)) {
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toContain('<img');
      expect(html, path).not.toContain('<b>bold');
      expect(html, path).not.toContain('"><svg');
      expect(html, path).not.toContain("' onmouseover");
      // The only scripts are the site's own; 404.html, served at any depth, carries its one redirect inline.
      if (path === '404.html') {
        expect([...html.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual(['<script>']);
        expect(/<script>([^]*?)<\/script>/.exec(html)?.[1], path).not.toContain('<');
        continue;
      }
      for (const m of html.matchAll(/<script[^>]*>/g))
        expect(m[0]).toMatch(
          /^<script src="(\.\.\/)*(matrix(-data)?|cell|site)\.js" defer>$|^<script type="application\/json" id="cell-data">$/,
        );
      // The cells' data is JSON that cannot close its script element.
      const data = /<script type="application\/json" id="cell-data">([^]*?)<\/script>/.exec(html)?.[1];
      if (data !== undefined) expect(data, path).not.toContain('<');
    }
    const index = text(files, 'index.html');
    expect(index).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text(files, 'matrix-data.js')).not.toContain('<');
  });

  it('shows evidence with a link to the stored pcap', () => {
    const runs = hostileRuns();
    const sha = 'cd'.repeat(32);
    const files = build(runs, [{ runId: runs[1]!.id, path: 'fail.pcap', sha256: sha, data: new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1]) }]);
    const cellPath = [...files.keys()].find((p) => p.startsWith('c/') && text(files, p).includes('id="tx-csum/ipv6-udp"'))!;
    const html = text(files, cellPath);
    expect(html).toContain(`href="../pcap/${sha}.pcap"`);
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt;');
    expect(html).toContain('<div class="hexview"');
    expect(html).toMatch(/<span class="off">0000<\/span> {2}00 ff/);
    expect(files.get(`pcap/${sha}.pcap`)).toEqual(new Uint8Array([0xd4, 0xc3, 0xb2, 0xa1]));
    const noPcap = build(runs);
    expect(text(noPcap, cellPath)).toContain('was referenced but not stored');
  });

  it('encodes per-kernel verdicts for the kernel filter', () => {
    const m = aggregate(hostileRuns());
    const cell = Object.values(m.cells).find((c) => c['tx-csum/ipv4-tcp'])!['tx-csum/ipv4-tcp'];
    // Offloaded and passing on 6.1.0; broken (regressed and claimed) and failing on 6.2.0; not run on 6.18.0.
    expect(kernelCodes(cell, ['6.1.0', '6.2.0', '6.18.0'])).toBe('oPxF..');
    expect(kernelCodes(undefined, ['a', 'b'])).toBe('....');
  });
});
