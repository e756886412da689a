import { createHash } from 'node:crypto';
import { createApiKeys } from '../../src/access/api-keys';

const FIRST_KEY = 'first-key-0123456789';
const SECOND_KEY = 'second-key-abcdefghij';

describe('createApiKeys', () => {
  const keys = createApiKeys([
    { name: 'first', key: FIRST_KEY, admin: false },
    { name: 'ops', key: SECOND_KEY, admin: true },
  ]);

  test.each([
    [FIRST_KEY, { owner: 'first', admin: false }],
    [SECOND_KEY, { owner: 'ops', admin: true }],
  ])('when the bearer token is the configured key %p, then it is valid and names its holder', (key, caller) => {
    expect(keys.verify(`Bearer ${key}`)).toEqual({
      outcome: 'valid',
      clientId: createHash('sha256').update(key).digest('hex'),
      caller,
    });
    expect(keys.callerOf(`Bearer ${key}`)).toEqual(caller);
  });

  test('when no key is configured, then every caller is anyone, who may touch everything', () => {
    expect(createApiKeys([]).callerOf(undefined)).toEqual({ owner: undefined, admin: true });
  });

  test('when a request without a valid key asks who sent it, then that fails rather than opening the route', () => {
    expect(() => keys.callerOf(undefined)).toThrow();
    expect(() => keys.callerOf('Bearer wrong-key-0123456789')).toThrow();
  });

  test('when the scheme is written in another case, then the key is still valid', () => {
    expect(keys.verify(`bearer ${FIRST_KEY}`)).toMatchObject({ outcome: 'valid' });
  });

  test.each([
    ['a key differing in its last character', `Bearer ${FIRST_KEY.slice(0, -1)}X`],
    ['a prefix of a key', `Bearer ${FIRST_KEY.slice(0, 8)}`],
    ['a key with more after it', `Bearer ${FIRST_KEY}0`],
    ['both keys joined', `Bearer ${FIRST_KEY}${SECOND_KEY}`],
  ])('when the token is %s, then it is wrong', (_, authorization) => {
    expect(keys.verify(authorization)).toEqual({ outcome: 'wrong' });
  });

  test.each([undefined, '', '   '])('when the header is %p, then the key is missing', (authorization) => {
    expect(keys.verify(authorization)).toEqual({ outcome: 'missing' });
  });

  test.each([
    ['another scheme', `Basic ${Buffer.from(`user:${FIRST_KEY}`).toString('base64')}`],
    ['the bare key', FIRST_KEY],
    ['the scheme alone', 'Bearer'],
    ['a token with a space in it', `Bearer ${FIRST_KEY} ${SECOND_KEY}`],
    ['a token with a non-ASCII character', `Bearer ${FIRST_KEY}é`],
  ])('when the header is %s, then it is malformed', (_, authorization) => {
    expect(keys.verify(authorization)).toEqual({ outcome: 'malformed' });
  });

  test('when no key is configured, then none is required, whatever the header says', () => {
    const open = createApiKeys([]);

    expect(open.required).toBe(false);
    expect(open.verify(undefined)).toEqual({ outcome: 'not-required' });
    expect(open.verify('Bearer anything-at-all-here')).toEqual({ outcome: 'not-required' });
  });
});
