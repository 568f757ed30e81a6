/** Escaping for the text formats reports write. Pure. */

// Characters XML 1.0 forbids even as references (all C0 controls but tab, LF, CR).
const XML_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Text safe inside an XML element or a double- or single-quoted attribute. */
export function xmlEscape(s: string): string {
  return s
    .replace(XML_INVALID, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Text for a quoted XML attribute: also keeps line breaks and tabs, which parsers would turn into spaces. */
export function xmlAttr(s: string): string {
  return xmlEscape(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const HTML_SPECIAL = /[&<>"']/;

/** Text safe inside HTML elements and quoted attributes. */
export function htmlEscape(s: string): string {
  // Most text needs no escaping: one scan spares five replacements (the site escapes millions of strings).
  if (!HTML_SPECIAL.test(s)) return s;
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Text safe inside a Markdown table cell or list item (GitHub-flavoured): no markup, no HTML, one line. */
export function mdEscape(s: string): string {
  return s
    .replace(/\r?\n/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_{}[\]()#+!|~])/g, '\\$1');
}

/** One CSV field (RFC 4180), with formula-looking text defused for spreadsheets. */
export function csvField(value: string | number | boolean | null | undefined): string {
  let s = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s) && typeof value === 'string') s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Cuts text to `max` characters, saying how much was cut. */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}
