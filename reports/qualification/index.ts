/** The qualification report's files: `report.json` (the data) and `report.html` (the page). Pure. */
import type { Files } from '../types.js';
import { renderQualificationHtml } from './html.js';
import type { QualificationReport } from './report.js';

export { renderQualificationHtml } from './html.js';
export * from './report.js';

export function qualificationFiles(report: QualificationReport): Files {
  return new Map<string, string>([
    ['report.json', JSON.stringify(report, null, 2) + '\n'],
    ['report.html', renderQualificationHtml(report)],
  ]);
}
