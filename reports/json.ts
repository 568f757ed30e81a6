/** The JSON report: the aggregated matrix as data (`nicmatrix.matrix/1`), the same as the site's download. Pure. */
import { matrixData } from './data.js';
import type { ReportInput, Reporter } from './types.js';

export const jsonReporter: Reporter = {
  format: 'json',
  extension: 'json',
  render(input: ReportInput): string {
    return JSON.stringify({ ...matrixData(input.matrix, input.generatedAt), source: input.source }, null, 2) + '\n';
  },
};
