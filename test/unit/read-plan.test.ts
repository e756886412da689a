import { planRead } from '../../src/delivery/read-plan';

const validators = { etag: '"abc"', lastModified: 'Tue, 24 Nov 2026 08:00:00 GMT' };
const SIZE = 1000;

describe('planRead', () => {
  test.each([
    [{}, { kind: 'full' }],
    [{ 'if-none-match': '"abc"' }, { kind: 'not-modified' }],
    [{ 'if-none-match': 'W/"abc"' }, { kind: 'not-modified' }],
    [{ 'if-none-match': '"x", "abc"' }, { kind: 'not-modified' }],
    [{ 'if-none-match': '*' }, { kind: 'not-modified' }],
    [{ 'if-none-match': '"x"', 'if-modified-since': validators.lastModified }, { kind: 'full' }],
    [{ 'if-none-match': '"abc"', 'if-modified-since': 'Tue, 24 Nov 2026 07:00:00 GMT' }, { kind: 'not-modified' }],
    [{ 'if-modified-since': 'Tue, 24 Nov 2026 09:00:00 GMT' }, { kind: 'not-modified' }],
    [{ 'if-modified-since': 'Tue, 24 Nov 2026 07:00:00 GMT' }, { kind: 'full' }],
    [{ range: 'bytes=0-9' }, { kind: 'partial', range: { start: 0, end: 9 } }],
    [{ range: 'bytes=990-' }, { kind: 'partial', range: { start: 990, end: 999 } }],
    [{ range: 'bytes=-10' }, { kind: 'partial', range: { start: 990, end: 999 } }],
    [{ range: 'bytes=500-5000' }, { kind: 'partial', range: { start: 500, end: 999 } }],
    [{ range: 'bytes=0-9,5-20' }, { kind: 'partial', range: { start: 0, end: 20 } }],
    [{ range: 'bytes=0-9,100-109' }, { kind: 'full' }],
    [{ range: 'bytes=1000-' }, { kind: 'unsatisfiable' }],
    [{ range: 'bytes=nonsense' }, { kind: 'full' }],
    [{ range: 'bytes=0-9', 'if-range': '"abc"' }, { kind: 'partial', range: { start: 0, end: 9 } }],
    [{ range: 'bytes=0-9', 'if-range': 'W/"abc"' }, { kind: 'full' }],
    [{ range: 'bytes=0-9', 'if-range': validators.lastModified }, { kind: 'partial', range: { start: 0, end: 9 } }],
    [{ range: 'bytes=0-9', 'if-range': 'Mon, 23 Nov 2026 08:00:00 GMT' }, { kind: 'full' }],
    [{ range: 'bytes=0-9', 'if-range': 'Wed, 25 Nov 2026 08:00:00 GMT' }, { kind: 'full' }],
    [{ 'if-none-match': '"abc"', 'cache-control': 'no-cache' }, { kind: 'not-modified' }],
    [{ range: 'bytes=0-9', 'if-none-match': '"abc"' }, { kind: 'not-modified' }],
  ])('when a GET has %j, then %j', (headers, plan) => {
    expect(planRead('GET', headers, SIZE, validators)).toEqual(plan);
  });

  test('when a HEAD has a Range, then the Range is ignored (RFC 9110, 14.2)', () => {
    expect(planRead('HEAD', { range: 'bytes=0-9' }, SIZE, validators)).toEqual({ kind: 'full' });
    expect(planRead('HEAD', { range: 'bytes=5000-' }, SIZE, validators)).toEqual({ kind: 'full' });
  });
});
