import { describe, expect, it } from 'vitest';
import { allChecks, allFamilies, checkDefinitions } from '../../harness/checks/registry.js';
import { main } from '../../harness/cli/main.js';
import { aggregate } from '../../matrix/aggregate.js';
import { definitionIndex } from '../../matrix/definitions.js';
import { compareFamilies, orderChecks } from '../../matrix/identity.js';
import { siteReporter } from '../../reports/site/index.js';
import { result, runRecord, vethTarget } from '../fixtures/records.js';

const sentence = /^[A-Z'"a-z(].*[.)]$/;

describe('check definitions', () => {
  it('every check says in one sentence what it sends and what a pass proves; every family is described', () => {
    const families = new Set(allFamilies().map((f) => f.name));
    for (const c of allChecks()) {
      expect(c.definition, c.id).toMatch(sentence);
      expect(c.proves, c.id).toMatch(sentence);
      expect(`${c.definition}${c.proves}`, c.id).not.toContain('\n');
      expect(families.has(c.family), c.id).toBe(true);
    }
    for (const f of allFamilies()) expect(f.definition, f.name).toMatch(sentence);
  });

  it('orders families as a reader thinks, unknown ones last', () => {
    expect(['zc', 'frag', 'gso', 'new-thing', 'tx-csum', 'tunnel-csum', 'rx-csum', 'tso', 'tx-frame'].sort(compareFamilies)).toEqual([
      'tx-csum',
      'rx-csum',
      'tso',
      'gso',
      'tunnel-csum',
      'zc',
      'frag',
      'tx-frame',
      'new-thing',
    ]);
    expect(orderChecks(['frag/a', 'zz/b', 'tx-csum/b', 'tx-csum/a', 'rx-csum/x'])).toEqual([
      'tx-csum/a',
      'tx-csum/b',
      'rx-csum/x',
      'frag/a',
      'zz/b',
    ]);
  });

  it('the site explains every column on hover/focus and on the checks page; unknown checks get a fallback', () => {
    const runs = [
      runRecord([
        vethTarget([
          result('tx-csum/ipv4-udp', 'pass'),
          result('uso/ipv6-udp', 'pass'),
          result('mystery/thing', 'pass'),
          result('frag/ipv4-overlap', 'pass'),
        ]),
      ]),
    ];
    const m = aggregate(runs);
    expect(m.families.map((f) => f.name)).toEqual(['tx-csum', 'uso', 'frag', 'mystery']);
    const files = siteReporter.render({ runs, matrix: m, generatedAt: 'now', source: 't', definitions: checkDefinitions() });
    const index = files.get('index.html') as string;
    const def = definitionIndex(checkDefinitions()).check('tx-csum/ipv4-udp');
    expect(index).toContain(`<span role="tooltip">tx-csum/ipv4-udp: ${def.definition} A pass proves: ${def.proves.replace(/'/g, '&#39;')}`);
    expect(index).toContain('<a href="checks.html#mystery/thing" class="tip" tabindex="-1">');
    const checks = files.get('checks.html') as string;
    for (const c of allChecks()) expect(checks).toContain(`<dt id="${c.id}">`);
    expect(checks).toContain('<dt id="mystery/thing"><code>mystery/thing</code> — mystery/thing</dt><dd>No definition was published');
    expect(checks).toContain('Checks of the mystery family');
  });

  it('nicmatrix checks lists them, and refuses a glob that matches nothing in the one error format', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), interactive: false };
    expect(await main(['checks', 'tx-csum/generic'], io)).toBe(0);
    expect(out.join('\n')).toContain('tx-csum/generic\n      sends:  Sends hand-made frames through PACKET_VNET_HDR');
    expect(out.join('\n')).toContain('ethtool: tx-checksum-ip-generic');
    expect(await main(['checks', 'nope/*'], io)).toBe(2);
    expect(err).toEqual(['nicmatrix checks: error [USAGE]: checks: nothing matches "nope/*"; see nicmatrix checks']);
    out.length = 0;
    expect(await main(['checks', '--json'], io)).toBe(0);
    expect(JSON.parse(out.join('\n')).checks).toHaveLength(allChecks().length);
  });
});
