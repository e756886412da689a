import request, { type Response } from 'supertest';
import { download, onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const LIMIT = 2;
/** One key for each test that needs one, so that no test uses up another's limit. */
const KEYS = Array.from({ length: 5 }, (_, index) => `test-key-${index}-0123456789`);

/** Each test is its own client: a key, or an address as the trusted proxy reports it. */
type Client = { readonly key: string } | { readonly address: string };

function clientHeaders(client: Client): Record<string, string> {
  return 'key' in client ? { Authorization: `Bearer ${client.key}` } : { 'X-Forwarded-For': client.address };
}

async function uploadAs(api: TestApp, client: Client): Promise<Response> {
  return upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]).set(clientHeaders(client));
}

/** Spends the client's allowance for the minute; returns the images it uploaded. */
async function useUpLimit(api: TestApp, client: Client): Promise<UploadedImage[]> {
  const answers = [];
  for (let attempt = 0; attempt < LIMIT; attempt += 1) {
    answers.push(await uploadAs(api, client));
  }
  expect(answers.map((answer) => answer.status)).toEqual(Array<number>(LIMIT).fill(201));
  return answers.map(onlyUploadedImage);
}

/** Seconds until the window ends, from a draft-8 `RateLimit` header. */
function resetSeconds(response: Response): number {
  return Number(/; t=(\d+)$/.exec(String(response.headers.ratelimit))?.[1]);
}

function useApp(config: Partial<TestApp['config']>): () => TestApp {
  let api: TestApp | undefined;
  beforeAll(async () => {
    api = await startTestApp({ config: { uploadRateLimit: LIMIT, trustProxy: 1, ...config } });
  });
  afterAll(async () => {
    await api?.close();
  });
  return () => {
    if (!api) throw new Error('the test app starts in beforeAll');
    return api;
  };
}

describe('upload rate limit with API keys', () => {
  const api = useApp({ apiKeys: namedKeys(...KEYS) });

  test('when a client uploads, then the answer carries the draft-8 RateLimit and RateLimit-Policy headers', async () => {
    const response = await uploadAs(api(), { key: KEYS[0] ?? '' });

    expect(response.status).toBe(201);
    expect(response.headers.ratelimit).toMatch(/^"uploads"; r=1; t=\d+$/);
    expect(response.headers['ratelimit-policy']).toMatch(/^"uploads"; q=2; w=60; pk=:[A-Za-z0-9+/=]+:$/);
    expect(resetSeconds(response)).toBeGreaterThan(0);
    expect(resetSeconds(response)).toBeLessThanOrEqual(60);
    expect(response.headers).not.toHaveProperty('x-ratelimit-limit');
  });

  test('when a key has used up its uploads for the minute, then 429 rate-limited with Retry-After and nothing is stored', async () => {
    const client = { key: KEYS[1] ?? '' };
    await useUpLimit(api(), client);
    const before = await api().stored();

    const response = await uploadAs(api(), client);

    expectProblem(response, 429, 'rate-limited');
    const retryAfter = Number(response.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(response.headers.ratelimit).toMatch(/^"uploads"; r=0; t=\d+$/);
    expect(response.headers['ratelimit-policy']).toMatch(/^"uploads"; q=2; w=60; pk=/);
    expect(response.headers.connection).toBe('close');
    expect(await api().stored()).toEqual(before);
  });

  test('when one key is limited, then another key from the same address still uploads', async () => {
    await useUpLimit(api(), { key: KEYS[2] ?? '' });
    expect((await uploadAs(api(), { key: KEYS[2] ?? '' })).status).toBe(429);

    const response = await uploadAs(api(), { key: KEYS[3] ?? '' });

    expect(response.status).toBe(201);
  });

  test('when an address keeps sending wrong keys, then it is limited too: key guessing is held to the same pace', async () => {
    const wrongKey = { Authorization: 'Bearer wrong-key-0123456789', 'X-Forwarded-For': '203.0.113.7' };
    const attempts = [];
    for (let attempt = 0; attempt <= LIMIT; attempt += 1) {
      attempts.push((await request(api().app).post('/image/upload').set(wrongKey)).status);
    }

    expect(attempts).toEqual([403, 403, 429]);
  });

  test('when uploads are limited, then reads are not', async () => {
    const client = { key: KEYS[4] ?? '' };
    const images = await useUpLimit(api(), client);
    expect((await uploadAs(api(), client)).status).toBe(429);

    const reads = await Promise.all(images.map((image) => download(api().app, image.url, clientHeaders(client))));

    expect(reads.map((read) => read.status)).toEqual([200, 200]);
    expect(reads[0]?.headers).not.toHaveProperty('ratelimit');
  });
});

describe('upload rate limit by address, behind one trusted proxy', () => {
  const api = useApp({});

  test('when an address has used up its uploads, then another address still uploads', async () => {
    await useUpLimit(api(), { address: '198.51.100.1' });
    expect((await uploadAs(api(), { address: '198.51.100.1' })).status).toBe(429);

    const response = await uploadAs(api(), { address: '198.51.100.2' });

    expect(response.status).toBe(201);
  });

  test('when two IPv6 addresses share a /56, then they share one limit', async () => {
    await useUpLimit(api(), { address: '2001:db8:0:1::1' });

    const sameNetwork = await uploadAs(api(), { address: '2001:db8:0:ff::2' });
    const otherNetwork = await uploadAs(api(), { address: '2001:db8:0:100::1' });

    expectProblem(sameNetwork, 429, 'rate-limited');
    expect(otherNetwork.status).toBe(201);
  });
});

describe('upload rate limit with no trusted proxy', () => {
  const api = useApp({ trustProxy: 0 });

  test('when a client makes up X-Forwarded-For addresses, then it is still counted by its own address', async () => {
    const statuses = [];
    for (let attempt = 0; attempt <= LIMIT; attempt += 1) {
      statuses.push((await uploadAs(api(), { address: `192.0.2.${attempt + 1}` })).status);
    }

    expect(statuses).toEqual([201, 201, 429]);
  });
});

describe('upload rate limit turned off', () => {
  const api = useApp({ uploadRateLimit: 0 });

  test('when UPLOAD_RATE_LIMIT is 0, then uploads are never refused and carry no RateLimit headers', async () => {
    const responses = [];
    for (let attempt = 0; attempt <= LIMIT + 1; attempt += 1) {
      responses.push(await uploadAs(api(), { address: '198.51.100.9' }));
    }

    expect(responses.map((response) => response.status)).toEqual([201, 201, 201, 201]);
    expect(responses[0]?.headers).not.toHaveProperty('ratelimit');
    expect(responses[0]?.headers).not.toHaveProperty('ratelimit-policy');
  });
});
