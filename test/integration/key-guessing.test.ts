import request from 'supertest';
import { expectMatchesContract } from '../helpers/contract';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'the-right-key-0123456789';
const WRONG = 'Bearer a-wrong-guess-0123456789';
const LIMIT = 2;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { apiKeys: namedKeys(KEY), apiKeyFailureLimit: LIMIT, trustProxy: 1 } });
});

afterAll(async () => {
  await api.close();
});

/** A request from `address`, as the trusted proxy reports it. */
const from = (address: string, test: request.Test, authorization: string) =>
  test.set('X-Forwarded-For', address).set('Authorization', authorization);

async function storedImageUrl(): Promise<string> {
  const uploaded = await upload(api.app, [{ bytes: await makeImage('png'), filename: 'kept.png' }]).set('Authorization', `Bearer ${KEY}`);
  return onlyUploadedImage(uploaded).url;
}

describe('wrong API keys per address (API_KEY_FAILURE_LIMIT)', () => {
  test('when an address sends more wrong keys than the limit, across routes, then 429 with Retry-After, even for the right key, and nothing is deleted', async () => {
    const url = await storedImageUrl();
    const address = '203.0.113.10';

    const guesses = [
      await from(address, request(api.app).delete(url), WRONG),
      await from(address, request(api.app).post(`${url}/sign`), WRONG),
    ];
    const deleteWithTheKey = await from(address, request(api.app).delete(url), `Bearer ${KEY}`);
    const blocked = [
      await from(address, request(api.app).patch('/image/uploads/0123456789abcdef01234567'), WRONG).set('Tus-Resumable', '1.0.0'),
      deleteWithTheKey,
      await from(address, upload(api.app, [{ bytes: await makeImage('png'), filename: 'b.png' }]), `Bearer ${KEY}`),
    ];

    expect(guesses.map((answer) => answer.status)).toEqual([403, 403]);
    for (const answer of blocked) {
      expectProblem(answer, 429, 'rate-limited');
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(answer.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(answer.headers.connection).toBe('close');
    }
    expectMatchesContract('DELETE', '/image/{id}', deleteWithTheKey);
    expect((await download(api.app, url)).status).toBe(200);
  });

  test('when one address is refused, then another address with the right key still gets through', async () => {
    const url = await storedImageUrl();
    for (let guess = 0; guess <= LIMIT; guess += 1) await from('203.0.113.20', request(api.app).delete(url), WRONG);

    const other = await from('203.0.113.21', request(api.app).delete(url), `Bearer ${KEY}`);

    expect(other.status).toBe(204);
  });

  test('when right keys and missing keys come from one address, then they never count as wrong ones', async () => {
    const address = '203.0.113.30';
    const answers = [];
    for (let attempt = 0; attempt < LIMIT * 3; attempt += 1) {
      answers.push((await from(address, request(api.app).delete('/image/0123456789abcdef01234567'), `Bearer ${KEY}`)).status);
      answers.push((await request(api.app).delete('/image/0123456789abcdef01234567').set('X-Forwarded-For', address)).status);
    }

    expect(new Set(answers)).toEqual(new Set([404, 401]));
  });
});
