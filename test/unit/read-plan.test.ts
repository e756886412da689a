import { failedPrecondition, failedWriteCondition, isConditional, planRead } from '../../src/delivery/read-plan';

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
    [{ 'if-match': '"abc"' }, { kind: 'full' }],
    [{ 'if-match': '"x", "abc"' }, { kind: 'full' }],
    [{ 'if-match': '*' }, { kind: 'full' }],
    [{ 'if-match': '"nope"' }, { kind: 'precondition-failed', failed: 'If-Match' }],
    [{ 'if-match': 'W/"abc"' }, { kind: 'precondition-failed', failed: 'If-Match' }],
    [{ 'if-match': '' }, { kind: 'precondition-failed', failed: 'If-Match' }],
    [{ 'if-match': '"nope"', range: 'bytes=0-9' }, { kind: 'precondition-failed', failed: 'If-Match' }],
    [{ 'if-match': '"nope"', 'if-none-match': '"abc"' }, { kind: 'precondition-failed', failed: 'If-Match' }],
    [{ 'if-match': '"abc"', 'if-none-match': '"abc"' }, { kind: 'not-modified' }],
    [{ 'if-match': '"abc"', range: 'bytes=0-9' }, { kind: 'partial', range: { start: 0, end: 9 } }],
    [{ 'if-unmodified-since': validators.lastModified }, { kind: 'full' }],
    [{ 'if-unmodified-since': 'Wed, 25 Nov 2026 08:00:00 GMT' }, { kind: 'full' }],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' }, { kind: 'precondition-failed', failed: 'If-Unmodified-Since' }],
    [{ 'if-unmodified-since': 'not a date' }, { kind: 'full' }],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT', 'if-match': '"abc"' }, { kind: 'full' }],
    [
      { 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT', 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' },
      { kind: 'precondition-failed', failed: 'If-Unmodified-Since' },
    ],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT', range: 'bytes=0-9' }, { kind: 'precondition-failed', failed: 'If-Unmodified-Since' }],
  ])('when a GET has %j, then %j', (headers, plan) => {
    expect(planRead('GET', headers, SIZE, validators)).toEqual(plan);
  });

  test('when a HEAD has a Range, then the Range is ignored (RFC 9110, 14.2)', () => {
    expect(planRead('HEAD', { range: 'bytes=0-9' }, SIZE, validators)).toEqual({ kind: 'full' });
    expect(planRead('HEAD', { range: 'bytes=5000-' }, SIZE, validators)).toEqual({ kind: 'full' });
  });
});

describe('preconditions of a write (RFC 9110, 13.2.2)', () => {
  test.each([
    [{}, undefined],
    [{ 'if-match': '"abc"' }, undefined],
    [{ 'if-match': '*' }, undefined],
    [{ 'if-match': '"nope"' }, 'If-Match'],
    [{ 'if-match': 'W/"abc"' }, 'If-Match'],
    [{ 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' }, 'If-Unmodified-Since'],
    [{ 'if-unmodified-since': validators.lastModified }, undefined],
    [{ 'if-none-match': '"abc"' }, 'If-None-Match'],
    [{ 'if-none-match': 'W/"abc"' }, 'If-None-Match'],
    [{ 'if-none-match': '*' }, 'If-None-Match'],
    [{ 'if-none-match': '"x"' }, undefined],
    [{ 'if-match': '"nope"', 'if-none-match': '"abc"' }, 'If-Match'],
    [{ 'if-match': '"abc"', 'if-none-match': '"abc"' }, 'If-None-Match'],
  ])('when a DELETE has %j, then the failed condition is %s', (conditions, failed) => {
    expect(failedWriteCondition(conditions, validators)).toBe(failed);
  });

  test('when a read has a matching If-None-Match, then it is no failed precondition: the read answers 304', () => {
    expect(failedPrecondition({ 'if-none-match': '"abc"' }, validators)).toBeUndefined();
  });

  test('when none of the three headers is there, then the request is not conditional', () => {
    expect(isConditional({})).toBe(false);
    expect(isConditional({ 'if-match': undefined })).toBe(false);
    expect(isConditional({ 'if-none-match': '*' })).toBe(true);
    expect(isConditional({ 'if-unmodified-since': 'x' })).toBe(true);
  });
});
