/**
 * The static website as a reporter: every page (matrix, attention, checks,
 * runs, devices, a cells page per device), the scripts and stylesheet, the regressions feed,
 * the downloads (matrix.json, matrix.csv) and the stored pcaps, as files to
 * write under one directory. Works from file:// and any static host. Pure.
 */
import { definitionIndex } from '../../matrix/definitions.js';
import { matrixCsv, matrixData } from '../data.js';
import type { Files, ReportInput, Reporter } from '../types.js';
import { attentionPage } from './attention-page.js';
import { cellScript } from './cell-client.js';
import { cellsPage, type ArtifactIndex } from './cell-page.js';
import { checksPage } from './checks-page.js';
import { matrixScript } from './client.js';
import { devicePage } from './device-page.js';
import { regressionsFeed } from './feed.js';
import { paths, siteScript } from './html.js';
import { matrixDataScript, matrixPage } from './matrix-page.js';
import { movedPage } from './moved-page.js';
import { runPage, runsPage } from './run-page.js';
import { STYLE } from './style.js';

function artifactIndex(input: ReportInput): ArtifactIndex {
  const index = new Map<string, Map<string, string>>();
  for (const a of input.artifacts ?? []) {
    let run = index.get(a.runId);
    if (!run) index.set(a.runId, (run = new Map()));
    run.set(a.path, a.sha256);
  }
  return index;
}

/** The site renders many files, never one string. */
export interface SiteReporter extends Reporter {
  render(input: ReportInput): Files;
}

/** Every file of the site, one at a time, so a writer can drop each once written. */
export function* siteFiles(input: ReportInput): Generator<[string, string | Uint8Array]> {
  const { matrix: m, generatedAt } = input;
  const defs = definitionIndex(input.definitions);
  yield ['index.html', matrixPage(m, generatedAt, defs)];
  yield ['matrix-data.js', matrixDataScript(m)];
  yield ['matrix.js', matrixScript()];
  yield ['cell.js', cellScript()];
  yield ['site.js', siteScript()];
  yield ['style.css', STYLE];
  yield ['attention.html', attentionPage(m, generatedAt)];
  yield ['checks.html', checksPage(m, defs, input.definitions?.checks.map((c) => c.id) ?? [], generatedAt)];
  yield ['runs.html', runsPage(m, input.runs, generatedAt)];
  yield ['regressions.atom', regressionsFeed(m, generatedAt)];
  yield ['matrix.json', JSON.stringify(matrixData(m, generatedAt))];
  yield ['matrix.csv', matrixCsv(m)];
  yield ['404.html', movedPage(m.checks, generatedAt)];
  const runs = new Map(input.runs.map((r) => [r.id, r]));
  const runPaths = new Map(input.runs.map((r) => [r.id, paths.run(r.id)]));
  for (const r of input.runs) yield [runPaths.get(r.id)!, runPage(r, generatedAt)];
  const ctx = { artifacts: artifactIndex(input), runs, runPaths, defs };
  for (const d of m.devices) {
    yield [paths.device(d), devicePage(m, d, generatedAt)];
    const cells = m.checks.map((check) => m.cells[d.key]?.[check]).filter((c) => c !== undefined);
    if (cells.length) yield [paths.cells(d), cellsPage(d, cells, ctx, generatedAt)];
  }
  for (const a of input.artifacts ?? []) yield [paths.pcap(a.sha256), a.data];
}

export const siteReporter: SiteReporter = {
  format: 'site',
  extension: '',
  render(input: ReportInput): Files {
    return new Map(siteFiles(input));
  },
};
