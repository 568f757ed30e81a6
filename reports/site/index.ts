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
import { paths } from './html.js';
import { matrixDataScript, matrixPage } from './matrix-page.js';
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

export const siteReporter: SiteReporter = {
  format: 'site',
  extension: '',
  render(input: ReportInput): Files {
    const { matrix: m, generatedAt } = input;
    const defs = definitionIndex(input.definitions);
    const files: Files = new Map();
    files.set('index.html', matrixPage(m, generatedAt, defs));
    files.set('matrix-data.js', matrixDataScript(m));
    files.set('matrix.js', matrixScript());
    files.set('cell.js', cellScript());
    files.set('style.css', STYLE);
    files.set('attention.html', attentionPage(m, generatedAt));
    files.set('checks.html', checksPage(m, defs, input.definitions?.checks.map((c) => c.id) ?? [], generatedAt));
    files.set('runs.html', runsPage(m, input.runs, generatedAt));
    files.set('regressions.atom', regressionsFeed(m, generatedAt));
    files.set('matrix.json', JSON.stringify(matrixData(m, generatedAt)));
    files.set('matrix.csv', matrixCsv(m));
    const runs = new Map(input.runs.map((r) => [r.id, r]));
    const runPaths = new Map(input.runs.map((r) => [r.id, paths.run(r.id)]));
    for (const r of input.runs) files.set(runPaths.get(r.id)!, runPage(r, generatedAt));
    const ctx = { artifacts: artifactIndex(input), runs, runPaths, defs };
    for (const d of m.devices) {
      files.set(paths.device(d), devicePage(m, d, generatedAt));
      const cells = m.checks.map((check) => m.cells[d.key]?.[check]).filter((c) => c !== undefined);
      if (cells.length) files.set(paths.cells(d), cellsPage(d, cells, ctx, generatedAt));
    }
    for (const a of input.artifacts ?? []) files.set(paths.pcap(a.sha256), a.data);
    return files;
  },
};
