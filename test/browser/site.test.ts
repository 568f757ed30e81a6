import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as ingest } from '../../harness/cli/commands/ingest.js';
import { command as site } from '../../harness/cli/commands/site.js';
import { slug } from '../../matrix/identity.js';
import { syntheticRuns } from '../../matrix/synthetic.js';
import { e1000Target, result, runRecord, vethRun } from '../fixtures/records.js';
import { launchChromium, serveDir } from '../../ci/chromium.js';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string;
  nodes: { target: string[] }[];
}
const HOSTILE = '<script>alert(1)</script>';

let dir: string;
let siteDir: string;
let server: Awaited<ReturnType<typeof serveDir>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const problems: string[] = [];

const io = { out: () => {}, err: () => {}, interactive: false };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `nicmatrix-browser-${process.pid}-`));
  siteDir = join(dir, 'site');
  const store = join(dir, 'matrix.db');
  const files: string[] = [];
  const save = (name: string, value: unknown): void => {
    const file = join(dir, 'records', name);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    files.push(file);
  };
  syntheticRuns({ devices: 12, checks: 16, kernels: 3, devicesPerRun: 4 }).forEach((r, i) => save(`syn${i}.json`, r));
  const veth = vethRun();
  veth.targets[0]!.results[2]!.evidence.pcap = 'veth.pcap/tx-csum-ipv6-udp.pcap';
  save('veth.pcap/tx-csum-ipv6-udp.pcap', 'not really a pcap');
  files.pop();
  save('veth.json', veth);
  save(
    'hostile.json',
    runRecord([
      e1000Target([result('tx-csum/ipv4-tcp', 'fail', 'offload-on', `bad ${HOSTILE}`)], {
        device: { model: 'e1000-hostile', description: `NIC ${HOSTILE}` },
        driver: { name: `drv${HOSTILE}`, version: '', firmware: '', bus: '' },
      }),
    ]),
  );
  expect(await ingest.run({ values: { store }, positionals: files }, io)).toBe(0);
  expect(await site.run({ values: { store, out: siteDir }, positionals: [] }, io)).toBe(0);
  server = await serveDir(siteDir);
  browser = await launchChromium();
  context = browser.context;
  context.on('page', watch);
  context.pages().forEach(watch);
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function watch(page: Page): void {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning')
      problems.push(`${page.url()}: console ${m.type()}: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`${page.url()}: dialog opened: ${d.message()}`);
    void d.dismiss();
  });
}

async function openMatrix(url = server.url): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
  return page;
}

/** Scrolls the grid to its end until no more rows are built (the grid builds rows as they come into view). */
async function scrollToEnd(page: Page): Promise<void> {
  for (let built = -1; ;) {
    const now = await page.locator('#matrix tbody tr').count();
    if (now === built) return;
    built = now;
    await page.locator('#grid').evaluate((g) => g.scrollTo(0, g.scrollHeight));
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }
}

/** The rows a reader reaches by scrolling the grid. */
async function visibleRows(page: Page): Promise<number> {
  await scrollToEnd(page);
  return page.locator('#matrix tbody tr:visible').count();
}

describe('compatibility website in Chromium', () => {
  it('loads the matrix with every device, the untested ones and hostile names as text', async () => {
    const page = await openMatrix();
    expect(await visibleRows(page)).toBe(12 + 2 + 4);
    expect(await page.locator('tr.untested').count()).toBe(4);
    await expect(page.locator('#matrix tbody th', { hasText: `NIC ${HOSTILE}` }).count()).resolves.toBe(1);
    expect(await page.locator('#matrix tbody th script').count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'matrix.png'), fullPage: false });
    await page.close();
  });

  it('filters by driver, family, verdict, kernel and text', async () => {
    const page = await openMatrix();
    await page.selectOption('#f-driver', 'veth');
    expect(await visibleRows(page)).toBe(1);
    await expect(page.locator('#shown').textContent()).resolves.toMatch(/^1 of 18 devices/);
    await page.selectOption('#f-driver', '');

    await page.selectOption('#f-family', 'zc');
    const zcHeads = await page.locator('#matrix thead th.chk:visible').allTextContents();
    expect(zcHeads.length).toBeGreaterThan(0);
    const titles = await page.locator('#matrix thead th.chk:visible').evaluateAll((els) => els.map((e) => e.getAttribute('data-check')));
    expect(titles.every((t) => t!.startsWith('zc/'))).toBe(true);
    await page.selectOption('#f-family', '');

    await page.selectOption('#f-level', 'untested');
    expect(await visibleRows(page)).toBe(4);
    await page.selectOption('#f-level', 'broken');
    const failRows = await visibleRows(page);
    expect(failRows).toBeGreaterThan(0);
    for (const row of await page.locator('#matrix tbody tr:visible').all())
      expect(await row.locator('td.v-broken').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'matrix-failures.png') });
    await page.selectOption('#f-level', '');

    // The veth device ran only on 6.18.0: on another kernel its cells say "not run".
    await page.selectOption('#f-driver', 'veth');
    const vethRow = page.locator('#matrix tbody tr:visible');
    expect(await vethRow.locator('td.v-broken').count()).toBe(1);
    await page.selectOption('#f-kernel', '6.1.0-nm');
    expect(await vethRow.locator('td.v-broken').count()).toBe(0);
    expect(await vethRow.locator('td.v-none').count()).toBe(await vethRow.locator('td.v').count());
    await page.selectOption('#f-kernel', '6.18.0');
    expect(await vethRow.locator('td.v-broken').count()).toBe(1);
    await page.selectOption('#f-kernel', '');
    await page.selectOption('#f-driver', '');

    await page.fill('#q', 'e1000-hostile');
    expect(await visibleRows(page)).toBe(1);
    await page.fill('#q', 'ipv6-udp');
    expect(await visibleRows(page)).toBe(18);
    const heads = await page.locator('#matrix thead th.chk:visible').evaluateAll((els) => els.map((e) => e.getAttribute('data-check')));
    expect(heads.length).toBeGreaterThan(0);
    expect(heads.every((t) => t!.includes('ipv6-udp'))).toBe(true);
    await page.fill('#q', 'no such thing anywhere');
    expect(await page.locator('#empty').isVisible()).toBe(true);
    await page.close();
  });

  it('is keyboard navigable and drills into a cell, its evidence and its device', async () => {
    const page = await openMatrix();
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    await page.keyboard.type('veth pair');
    await page.keyboard.press('Tab');
    // Tab leaves the filters and enters the grid on one cell (roving tabindex).
    for (let i = 0; i < 14 && !(await page.evaluate(() => document.activeElement?.closest('#matrix') !== null)); i++)
      await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.closest('th')?.textContent)).toContain('veth pair');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => (document.activeElement?.closest('td') as HTMLTableCellElement | null)?.cellIndex)).toBe(2);
    await page.keyboard.press('End');
    const lastIndex = await page.evaluate(() => (document.activeElement?.closest('td') as HTMLTableCellElement | null)?.cellIndex);
    expect(lastIndex).toBe((await page.locator('#matrix tbody tr:visible td.v').count()) + 1);
    // Walk left to the failing cell and open it with Enter.
    for (let i = 0; i < 40; i++) {
      if (await page.evaluate(() => document.activeElement?.closest('td')?.classList.contains('v-broken'))) break;
      await page.keyboard.press('ArrowLeft');
    }
    await Promise.all([page.waitForURL(/\/c\//), page.keyboard.press('Enter')]);
    await expect(page.locator('h1').textContent()).resolves.toContain('tx-csum/ipv6-udp');
    await expect(page.locator('.headline').textContent()).resolves.toContain('BROKEN');
    await expect(page.locator('.finding').textContent()).resolves.toBe(
      'tx-csum/ipv6-udp [offload-on] failed: peer saw UDP checksum 0x0000, expected 0xffff',
    );
    await expect(page.locator('section.evidence .msg').first().textContent()).resolves.toBe(
      'peer saw UDP checksum 0x0000, expected 0xffff',
    );
    // Only the cell asked for is on the page, with its level per kernel and history built from the page's data.
    expect(await page.locator('section.cell').count()).toBe(1);
    expect(await page.title()).toBe('tx-csum/ipv6-udp on veth pair · nicmatrix');
    const tables = page.locator('section.cell .cell-tables table');
    expect(await tables.count()).toBe(2);
    await expect(tables.nth(0).locator('tbody tr').allTextContents()).resolves.toEqual([
      // kernel, level with its flag, verdict, why, claimed, run, finished.
      expect.stringMatching(/^6\.18\.0BROKEN! claimed but broken failoffload-on: peer saw UDP checksum 0x0000, expected 0xffffyesrun-/),
    ]);
    expect(await tables.nth(1).locator('tbody tr').count()).toBe(1);
    expect(await tables.nth(1).locator('td.msg').textContent()).toBe('peer saw UDP checksum 0x0000, expected 0xffff');
    const pcap = page.locator('a.pcap');
    expect(await pcap.count()).toBe(1);
    const response = await page.request.get(new URL((await pcap.getAttribute('href'))!, page.url()).href);
    expect(await response.text()).toBe('not really a pcap');
    await page.screenshot({ path: join(SHOTS, 'cell.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/d\//), page.locator('.crumbs a').nth(1).click()]);
    await expect(page.locator('h1').textContent()).resolves.toContain('veth pair');
    await page.screenshot({ path: join(SHOTS, 'device.png'), fullPage: true });
    await page.close();
  });

  it('shows hostile names and messages as text on every kind of page', async () => {
    const page = await context.newPage();
    await page.goto(new URL('attention.html', server.url).href);
    // The attention page groups by device: open the hostile device's broken cell.
    const group = page.locator('section', { has: page.locator('h3', { hasText: `NIC ${HOSTILE}` }) });
    await group.locator('ul.attn a').first().click();
    await expect(page.locator('section.evidence .msg').first().textContent()).resolves.toBe(`bad ${HOSTILE}`);
    await expect(page.locator('h1').textContent()).resolves.toContain(`NIC ${HOSTILE}`);
    await page.close();
  });

  it('sends a link to an old one-file-per-cell page to the cell on its device page (the host serves 404.html)', async () => {
    const data = JSON.parse(readFileSync(join(siteDir, 'matrix.json'), 'utf8')) as { cells: { device: string; check: string }[] };
    const cell = data.cells.find((c) => c.check.includes('/'))!;
    const old = new URL(`c/${slug(cell.device)}/${slug(cell.check)}.html`, server.url).href;
    const page = await context.newPage();
    await page.goto(old);
    await page.waitForURL((u) => u.pathname.endsWith(`/c/${slug(cell.device)}.html`));
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#${cell.check}`);
    // The old address answers 404 (so may what it asks for relative to itself): expected; anything else is not.
    const own = problems.filter((p) => p.startsWith(old));
    for (const p of own) expect(p).toMatch(/console error: Failed to load resource: the server responded with a status of 404/);
    problems.splice(0, problems.length, ...problems.filter((p) => !own.includes(p)));
    await page.close();
  });

  it('works from file:// too', async () => {
    const page = await openMatrix(pathToFileURL(join(siteDir, 'index.html')).href);
    await page.selectOption('#f-kernel', '6.1.0-nm');
    await scrollToEnd(page);
    expect(await page.locator('#matrix td.v-untested').count()).toBe(4 * (await page.locator('#matrix thead th.chk').count()));
    await page.close();
  });

  it('keeps the view in the URL: a permalink opens it, the back button returns to the previous one', async () => {
    const page = await openMatrix(new URL('index.html?driver=veth&kernel=6.1.0-nm', server.url).href);
    expect(await page.inputValue('#f-driver')).toBe('veth');
    expect(await page.inputValue('#f-kernel')).toBe('6.1.0-nm');
    expect(await visibleRows(page)).toBe(1);
    // veth ran only on 6.18.0: on 6.1.0-nm its cells say "not run".
    const vethRow = page.locator('#matrix tbody tr');
    expect(await vethRow.locator('td.v-none').count()).toBe(await vethRow.locator('td.v').count());
    await page.selectOption('#f-kernel', '6.18.0');
    await page.selectOption('#f-family', 'tx-csum');
    // The address follows the view right after the frame that shows it.
    const search = (): Promise<string> => page.evaluate(() => location.search);
    await expect.poll(search).toBe('?driver=veth&family=tx-csum&kernel=6.18.0');
    expect(await vethRow.locator('td.v-broken').count()).toBe(1);
    await page.fill('#q', 'ipv6');
    await expect.poll(search).toBe('?q=ipv6&driver=veth&family=tx-csum&kernel=6.18.0');
    // Typing replaces the entry; choosing pushes one: back goes to the view before the family was chosen.
    await page.goBack();
    expect(await page.inputValue('#f-family')).toBe('');
    expect(await page.inputValue('#f-kernel')).toBe('6.18.0');
    expect(await page.inputValue('#q')).toBe('');
    await page.goBack();
    expect(await page.inputValue('#f-kernel')).toBe('6.1.0-nm');
    await page.goForward();
    await page.goForward();
    expect(await page.inputValue('#f-family')).toBe('tx-csum');
    expect(await page.inputValue('#q')).toBe('ipv6');
    // The address opened elsewhere shows the same view.
    const copy = await openMatrix(new URL(`index.html${await search()}`, server.url).href);
    expect(await copy.inputValue('#f-family')).toBe('tx-csum');
    expect(await copy.locator('#shown').textContent()).toBe(await page.locator('#shown').textContent());
    await copy.close();
    await page.close();
  });

  it('compares 2 devices side by side, only the checks that differ, as a permalink', async () => {
    const page = await openMatrix();
    const slugs = await page
      .locator('#matrix tbody tr:not(.untested)')
      .evaluateAll((rows) => rows.slice(0, 2).map((r) => r.getAttribute('data-slug')!));
    for (const slug of slugs) await page.locator(`#matrix tbody tr[data-slug="${slug}"] input.pick`).check();
    await expect(page.locator('#compare').textContent()).resolves.toBe('Compare checked (2)');
    await page.click('#compare');
    expect(await visibleRows(page)).toBe(2);
    expect(await page.isChecked('#f-differ')).toBe(true);
    await expect.poll(() => page.evaluate(() => new URLSearchParams(location.search).get('compare'))).toBe(slugs.join(','));
    const search = await page.evaluate(() => location.search);
    // Every check still shown reads differently on the two devices.
    const states = await page
      .locator('#matrix tbody tr')
      .evaluateAll((rows) => rows.map((r) => Array.from(r.querySelectorAll('td.v')).map((td) => /\bv-([\w-]+)/.exec(td.className)![1])));
    const [first, second] = states;
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(first!.length).toBeGreaterThan(0);
    expect(first!.every((s, j) => s !== second![j])).toBe(true);
    const total = await page.locator('#matrix thead th.chk').count();
    expect(await page.locator('#matrix thead th.chk:visible').count()).toBe(first!.length);
    await expect(page.locator('#shown').textContent()).resolves.toMatch(/^2 of 18 devices, \d+ of \d+ checks \(comparing 2\)$/);
    await page.screenshot({ path: join(SHOTS, 'matrix-compare.png') });
    const copy = await openMatrix(new URL(`index.html${search}`, server.url).href);
    expect(await visibleRows(copy)).toBe(2);
    expect(await copy.locator('#matrix tbody tr input.pick:checked').count()).toBe(2);
    await copy.close();
    await page.click('#compare-off');
    expect(await visibleRows(page)).toBe(18);
    await expect.poll(() => page.evaluate(() => location.search)).toBe('');
    expect(await page.locator('#matrix thead th.chk:visible').count()).toBe(total);
    await page.goBack();
    expect(await visibleRows(page)).toBe(2);
    await page.close();
  });

  it('turns into one card per device at 375 px, each cell naming its check', async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 375, height: 812 });
    await page.goto(server.url);
    await page.waitForFunction(() => document.documentElement.dataset.ready === '1');
    expect(await page.locator('#matrix thead').isVisible()).toBe(false);
    const row = page.locator('#matrix tbody tr', { hasText: 'veth pair' });
    expect(await row.evaluate((r) => getComputedStyle(r).display)).toBe('flex');
    const box = (await row.boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(375);
    const cells = await row.locator('td.v').evaluateAll((tds) => tds.map((td) => td.getAttribute('data-c')));
    expect(cells.length).toBeGreaterThan(0);
    expect(cells.every((c) => c !== null && c.includes('/'))).toBe(true);
    // Nothing wider than the phone: no sideways scrolling.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await row.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'matrix-375.png') });
    await page.screenshot({ path: join(SHOTS, 'matrix-375-full.png'), fullPage: true });
    await page.close();
  });

  it('without JavaScript shows the whole matrix as a static table and every cell with its latest verdict', async () => {
    const plain = await launchChromium({ javaScriptEnabled: false });
    try {
      const page = await plain.context.newPage();
      await page.goto(server.url);
      expect(await page.locator('#grid').isVisible()).toBe(false);
      const rows = page.locator('#matrix-static tbody tr');
      expect(await rows.count()).toBe(18);
      const veth = rows.filter({ hasText: 'veth pair' });
      const broken = veth.locator('td.v-broken a');
      expect(await broken.count()).toBe(1);
      await Promise.all([page.waitForURL(/\/c\/.*#tx-csum\/ipv6-udp$/), broken.click()]);
      // The cells page without its script: every cell of the device, each with its finding and verdict.
      const cell = page.locator('section.cell[id="tx-csum/ipv6-udp"]');
      await expect(cell.locator('.finding').textContent()).resolves.toBe(
        'tx-csum/ipv6-udp [offload-on] failed: peer saw UDP checksum 0x0000, expected 0xffff',
      );
      await expect(cell.locator('.headline').textContent()).resolves.toContain('BROKEN');
      expect(await page.locator('section.cell').count()).toBeGreaterThan(1);
      await page.close();
    } finally {
      await plain.close();
    }
  });

  it('has no axe-core violations on the matrix, device, cell and run pages', async () => {
    const page = await openMatrix();
    const device = await page.locator('#matrix tbody tr', { hasText: 'veth pair' }).locator('th a').getAttribute('href');
    const cell = await page.locator('#matrix tbody tr', { hasText: 'veth pair' }).locator('td.v-broken a').getAttribute('href');
    await page.close();
    const runs = await context.newPage();
    await runs.goto(new URL('runs.html', server.url).href);
    const run = await runs.locator('table.list a').first().getAttribute('href');
    await runs.close();
    const found: string[] = [];
    // The matrix also in the views that restyle its cells: a level filter (others dimmed) and a kernel diff.
    const views = ['index.html', 'index.html?level=broken', 'index.html?kernel=6.18.0&base=6.1.0-nm', device!, cell!, run!];
    for (const path of [...views, 'attention.html', 'checks.html', 'runs.html', '404.html']) {
      const p = await context.newPage();
      await p.goto(new URL(path, server.url).href);
      if (path.startsWith('index.html')) await p.waitForFunction(() => document.documentElement.dataset.ready === '1');
      await p.addScriptTag({ path: AXE });
      const violations = await p.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: AxeViolation[] }> } }).axe;
        return (await axe.run(document)).violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
        }));
      });
      for (const v of violations) found.push(`${path}: ${v.id} (${v.impact}) at ${v.nodes.join(' | ')}`);
      await p.close();
    }
    expect(found).toEqual([]);
  });

  it('logged no console errors, page errors or dialogs', () => {
    expect(problems).toEqual([]);
  });
});
