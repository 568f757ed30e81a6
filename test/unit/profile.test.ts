import { describe, expect, it } from 'vitest';
import { globMatcher, parseProfile, profileIssues, resolveProfile, SHIPPED_PROFILES, shippedProfile } from '../../matrix/profile.js';
import { isNicmatrixError } from '../../harness/codec/errors.js';

const minimal = (over: Record<string, unknown> = {}) => ({
  schema: 'nicmatrix.profile/1',
  name: 'mine',
  title: 'My level',
  requirements: [{ id: 'tx', title: 'TX', checks: ['tx-csum/*'] }],
  ...over,
});

function refusal(value: unknown, file = 'mine.json'): string {
  try {
    resolveProfile(value, file);
  } catch (e) {
    expect(isNicmatrixError(e, 'PROFILE_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected the profile to be refused');
}

describe('shipped profiles', () => {
  it('baseline, offload and full load, each including the one before', () => {
    expect(SHIPPED_PROFILES).toEqual(['baseline', 'offload', 'full']);
    const [b, o, f] = SHIPPED_PROFILES.map((n) => shippedProfile(n)!);
    expect(b!.chain).toEqual(['baseline']);
    expect(o!.chain).toEqual(['baseline', 'offload']);
    expect(f!.chain).toEqual(['baseline', 'offload', 'full']);
    expect(o!.requirements.slice(0, b!.requirements.length)).toEqual(b!.requirements);
    expect(f!.requirements.slice(0, o!.requirements.length)).toEqual(o!.requirements);
    expect(f!.source).toBe('shipped:full');
  });

  it('name the check ids the issues name', () => {
    const ids = shippedProfile('full')!.requirements.flatMap((r) => r.checks);
    for (const id of [
      'tx-csum/ipv4-udp',
      'tx-csum/ipv6-tcp',
      'tx-csum/generic',
      'rx-csum/*',
      'rx-csum/ipv4-*',
      'zc/sendfile',
      'zc/msg-zerocopy',
      'zc/msg-zerocopy-honoured',
      'zc/sendfile-mutate',
      'zc/msg-zerocopy-mutate',
      'frag/*',
    ]) {
      expect(ids).toContain(id);
    }
  });

  it('offload asks for hardware: offload-on must pass with complete checksums on the wire', () => {
    const r = shippedProfile('offload')!.requirements.find((x) => x.id === 'tx-offload-ipv4')!;
    expect(r.variants).toEqual(['offload-on']);
    expect(r.accept).toEqual(['pass']);
    expect(r.evidence).toEqual([expect.objectContaining({ path: 'delivery', equals: 'complete' })]);
  });

  it('an unknown name is not a shipped profile', () => {
    expect(shippedProfile('gold')).toBeUndefined();
    expect(shippedProfile('constructor')).toBeUndefined();
  });
});

describe('profile validation', () => {
  it('accepts a minimal profile and a user profile extending a shipped one', () => {
    expect(profileIssues(minimal())).toEqual([]);
    const p = resolveProfile(minimal({ extends: 'baseline' }), 'mine.json');
    expect(p.chain).toEqual(['baseline', 'mine']);
    expect(p.requirements.at(-1)!.id).toBe('tx');
    expect(resolveProfile(minimal({ extends: 'offload', requirements: [] }), 'x.json').requirements).toHaveLength(
      shippedProfile('offload')!.requirements.length,
    );
  });

  it('names the file and the JSON pointer of every bad field', () => {
    const msg = refusal(
      minimal({
        schema: 'nicmatrix.profile/2',
        name: 'Has Spaces',
        colour: 'red',
        requirements: [
          { id: 'ok', title: 'fine', checks: ['tx-csum/*'] },
          { id: 'bad', title: '', checks: [], accept: ['pass', 'error'], evidence: [{ path: 'a..b', why: 'x' }], varaints: ['x'] },
        ],
      }),
    );
    const lines = msg.split('\n');
    expect(lines.every((l) => l.startsWith('mine.json: /'))).toBe(true);
    expect(msg).toContain('mine.json: /schema: must be "nicmatrix.profile/1", found "nicmatrix.profile/2"');
    expect(msg).toContain('mine.json: /name: must be lowercase');
    expect(msg).toContain('mine.json: /colour: is not a field of a profile');
    expect(msg).toContain('mine.json: /requirements/1/title: must be a non-empty string');
    expect(msg).toContain('mine.json: /requirements/1/checks: must be a non-empty list');
    expect(msg).toContain(
      'mine.json: /requirements/1/accept/1: must be one of pass, unsupported, skip (fail and error never meet a requirement), found "error"',
    );
    expect(msg).toContain('mine.json: /requirements/1/evidence/0/path: must be a dot path');
    expect(msg).toContain('mine.json: /requirements/1/evidence/0: must have exactly one of equals and matches');
    expect(msg).toContain('mine.json: /requirements/1/varaints: is not a field of a profile');
  });

  it('evidence conditions: exactly one of equals (a scalar) and matches (a regular expression)', () => {
    const cond = (c: Record<string, unknown>) =>
      minimal({ requirements: [{ id: 'a', title: 'A', checks: ['x/*'], evidence: [{ path: 'p', why: 'w', ...c }] }] });
    expect(profileIssues(cond({ equals: null }))).toEqual([]);
    expect(profileIssues(cond({ matches: '^[1-9]' }))).toEqual([]);
    expect(refusal(cond({ equals: 1, matches: 'x' }))).toBe(
      'mine.json: /requirements/0/evidence/0: must have exactly one of equals and matches',
    );
    expect(refusal(cond({ matches: '([' }))).toBe(
      'mine.json: /requirements/0/evidence/0/matches: must be a regular expression, found "(["',
    );
    expect(refusal(cond({ equals: { a: 1 } }))).toBe(
      'mine.json: /requirements/0/evidence/0/equals: must be a string, number, boolean or null, found {"a":1}',
    );
  });

  it('refuses an unknown base, duplicate ids (also against the base) and a non-object', () => {
    expect(refusal(minimal({ extends: 'gold' }))).toContain(
      'mine.json: /extends: must name a shipped profile (baseline, offload, full), found "gold"',
    );
    expect(
      refusal(
        minimal({
          requirements: [
            { id: 'a', title: 'A', checks: ['x/*'] },
            { id: 'a', title: 'B', checks: ['y/*'] },
          ],
        }),
      ),
    ).toContain('/requirements/1/id: requirement id "a" is used twice');
    expect(
      refusal(minimal({ extends: 'baseline', requirements: [{ id: 'tx-csum-software', title: 'again', checks: ['tx-csum/*'] }] })),
    ).toContain('/requirements/0/id: requirement id "tx-csum-software" is used twice (with baseline)');
    expect(refusal([1, 2])).toBe('mine.json: /: must be a profile object, found a list');
    expect(refusal(minimal({ requirements: [] }))).toContain('/requirements: must be a non-empty list of requirements');
  });

  it('parseProfile names the file on bad JSON', () => {
    expect(() => parseProfile('{"schema": ', 'p.json')).toThrow(/^p\.json: not valid JSON/);
    expect(parseProfile(JSON.stringify(minimal()), 'p.json').source).toBe('p.json');
  });
});

describe('globMatcher', () => {
  it('matches whole ids with * and ? and nothing else', () => {
    const m = globMatcher(['tx-csum/ipv?-udp', 'zc/*']);
    expect(m('tx-csum/ipv4-udp')).toBe(true);
    expect(m('tx-csum/ipv6-udp')).toBe(true);
    expect(m('tx-csum/ipv4-udpx')).toBe(false);
    expect(m('zc/sendfile-mutate')).toBe(true);
    expect(m('xzc/sendfile')).toBe(false);
    expect(globMatcher(['a.b'])('axb')).toBe(false);
  });
});
