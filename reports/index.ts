/** The single-file reporters by `--format` name. */
import { jsonReporter } from './json.js';
import { kcidbReporter } from './kcidb.js';
import { junitReporter } from './junit.js';
import { markdownReporter } from './markdown.js';
import type { Reporter } from './types.js';

export const REPORTERS: Readonly<Record<string, Reporter>> = {
  junit: junitReporter,
  markdown: markdownReporter,
  json: jsonReporter,
  kcidb: kcidbReporter,
};
