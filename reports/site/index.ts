/**
 * The static website as a reporter: every page, the script and stylesheet,
 * the downloads (matrix.json, matrix.csv) and the stored pcaps, as files to
 * write under one directory. Works from file:// and any static host. Pure.
 */
import { matrixCsv, matrixData } from '../data.js';
import type { Files, ReportInput, Reporter } from '../types.js';
import { attentionPage } from './attention-page.js';
import { cellPage, type ArtifactIndex } from './cell-page.js';
import { matrixScript } from './client.js';
import { devicePage } from './device-page.js';
import { paths } from './html.js';
import { matrixDataScript, matrixPage } from './matrix-page.js';
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
    const files: Files = new Map();
    files.set('index.html', matrixPage(m, generatedAt));
    files.set('matrix-data.js', matrixDataScript(m));
    files.set('matrix.js', matrixScript());
    files.set('style.css', STYLE);
    files.set('attention.html', attentionPage(m, generatedAt));
    files.set('matrix.json', JSON.stringify(matrixData(m, generatedAt)));
    files.set('matrix.csv', matrixCsv(m));
    const artifacts = artifactIndex(input);
    for (const d of m.devices) {
      files.set(paths.device(d), devicePage(m, d, generatedAt));
      for (const c of Object.values(m.cells[d.key] ?? {})) files.set(paths.cell(d, c.check), cellPage(d, c, artifacts, generatedAt));
    }
    for (const a of input.artifacts ?? []) files.set(paths.pcap(a.sha256), a.data);
    return files;
  },
};
