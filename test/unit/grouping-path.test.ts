import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Url, groupingPath, groupingSegment } from '../../src/targets/grouping-path.js';

/** Decodes URL-safe base64 without padding, independently of the encoder under test. */
function decodeBase64Url(text: string): string {
  expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
  return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'base64url'));
}

/** The value a `name@base64/<value>` or `name/<value>` segment stands for. */
function decodeSegment(segment: string): { name: string; value: string } {
  const [head, encoded, ...rest] = segment.split('/');
  expect(rest).toEqual([]);
  if (head?.endsWith('@base64')) {
    return {
      name: head.slice(0, -'@base64'.length),
      value: encoded === '=' ? '' : decodeBase64Url(encoded ?? ''),
    };
  }
  return { name: head ?? '', value: encoded ?? '' };
}

describe('the Pushgateway grouping key', () => {
  it('keeps plain values plain', () => {
    expect(groupingSegment('job', 'nightly-export')).toBe('job/nightly-export');
    expect(groupingSegment('instance', 'host-a')).toBe('instance/host-a');
    expect(groupingSegment('version', 'v1.2.3_rc~1')).toBe('version/v1.2.3_rc~1');
    expect(groupingSegment('n', '42')).toBe('n/42');
  });

  it('writes an empty value as "=", the padding alone, as the Pushgateway documents', () => {
    expect(groupingSegment('stage', '')).toBe('stage@base64/=');
  });

  it('writes a value holding a slash in URL-safe base64', () => {
    // "a/b?" in standard base64 is "YS9iPw==": the URL-safe form has no "+", "/" or padding.
    expect(groupingSegment('path', '/var/tmp')).toBe('path@base64/L3Zhci90bXA');
    expect(groupingSegment('q', 'a/b?')).toBe('q@base64/YS9iPw');
  });

  it('uses "-" and "_" where standard base64 would write "+" and "/"', () => {
    // ">>>?" is "Pj4+Pw==" and "???" is "Pz8/" in standard base64.
    expect(groupingSegment('x', '>>>?')).toBe('x@base64/Pj4-Pw');
    expect(groupingSegment('x', '???')).toBe('x@base64/Pz8_');
    expect(base64Url('~~~')).toBe('fn5-');
  });

  it('encodes every character a path, a query or a proxy could mangle', () => {
    for (const value of [
      'two words',
      'a+b',
      '100%',
      'what?',
      'anchor#1',
      'ünïcödé',
      '🙂',
      'back\\slash',
      'semi;colon',
      'at@sign',
      'a:b',
      'line\nfeed',
    ]) {
      const segment = groupingSegment('label', value);
      expect(segment, value).toMatch(/^label@base64\/[A-Za-z0-9_-]+$/);
      expect(decodeSegment(segment)).toEqual({ name: 'label', value });
    }
  });

  it('encodes "." and ".." and any value starting with a dot, which a path would resolve away', () => {
    expect(groupingSegment('dir', '.')).toBe('dir@base64/Lg');
    expect(groupingSegment('dir', '..')).toBe('dir@base64/Li4');
    expect(groupingSegment('dir', '.hidden')).toBe('dir@base64/LmhpZGRlbg');
    expect(groupingSegment('dir', 'a.b')).toBe('dir/a.b');
  });

  it('builds the path from the job and the grouping labels, in order', () => {
    expect(groupingPath('nightly', { instance: 'host-a', path: '/srv/data', stage: '' })).toBe(
      'metrics/job/nightly/instance/host-a/path@base64/L3Nydi9kYXRh/stage@base64/=',
    );
    expect(groupingPath('a/b', {})).toBe('metrics/job@base64/YS9i');
  });

  it('gives back the exact value on decoding, whatever the value', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const segment = groupingSegment('label', value);
        // One path segment for the name and one for the value: nothing a path would split or normalise.
        expect(segment.split('/')).toHaveLength(2);
        const [, encoded = ''] = segment.split('/');
        expect(encoded).not.toBe('.');
        expect(encoded).not.toBe('..');
        expect(encoded).toMatch(/^[A-Za-z0-9._~=-]+$/);
        expect(decodeSegment(segment)).toEqual({ name: 'label', value });
      }),
      { numRuns: 1000 },
    );
  });

  it('gives back the exact value of a grouping path, label by label', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/), fc.string({ unit: 'grapheme' })),
        (job, grouping) => {
          const [metrics, ...segments] = groupingPath(job, grouping).split('/');
          expect(metrics).toBe('metrics');
          const pairs: [string, string][] = [];
          for (let i = 0; i < segments.length; i += 2) {
            const { name, value } = decodeSegment(`${segments[i]}/${segments[i + 1]}`);
            pairs.push([name, value]);
          }
          expect(pairs).toEqual([['job', job], ...Object.entries(grouping)]);
        },
      ),
    );
  });
});
