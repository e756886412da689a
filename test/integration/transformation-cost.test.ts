import http from 'node:http';
import sharp from 'sharp';
import request from 'supertest';
import { signUrl } from '../../src/delivery/read-url-signature';
import { expectMatchesContract } from '../helpers/contract';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeFlatAnimatedGif, makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { useListeningTestApp } from '../helpers/server';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { eventually } from '../helpers/wait';

const SIGNING_KEY = 'transformation-cost-signing-key-0123456789';
const API_KEYS = ['transformation-cost-key-one', 'transformation-cost-key-two'];

async function uploadedId(app: http.RequestListener, bytes: Buffer, filename: string): Promise<string> {
  return onlyUploadedImage(await upload(app, [{ bytes, filename }]).set('Authorization', `Bearer ${API_KEYS[1]}`).expect(201)).id;
}

const signed = (id: string, query: string) => signUrl(SIGNING_KEY, `/image/${id}`, query);

/** One sample of the Prometheus text, 0 when absent. */
async function metric(app: http.RequestListener, sample: string): Promise<number> {
  const text = (await request(app).get('/metrics')).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}

const WAITING = 'image_transformations_in_progress{state="waiting"}';
const RUNNING = 'image_transformations_in_progress{state="running"}';
const STORED_AVIF = 'image_transformations_total{format="avif",outcome="stored"}';
const ABANDONED_AVIF = 'image_transformations_total{format="avif",outcome="abandoned"}';

describe('abandoned transformations', () => {
  const running = useListeningTestApp({
    config: { signingKey: SIGNING_KEY, transformConcurrency: 1, transformQueue: 100, trustProxy: 1 },
  });

  /** A GET from its own connection and its own address, left unanswered until the client gives up. */
  function sendAndLeaveLater(path: string, address: string): http.ClientRequest {
    const sent = http.get({ host: '127.0.0.1', port: running.server.port, path, agent: false, headers: { 'X-Forwarded-For': address } });
    sent.on('error', () => undefined);
    return sent;
  }

  test('when 100 clients ask heavy signed AVIF variants and leave, then the queued work is dropped unstarted and the next first variant is answered within seconds', async () => {
    const { api } = running;
    const id = await uploadedId(api.app, await makeImage('jpeg', 2000, 1500), 'large.jpg');

    // A hundred variants, each its own (by quality), from a hundred addresses: each client is within its share.
    const heavy = Array.from({ length: 100 }, (_, index) =>
      sendAndLeaveLater(signed(id, `w=1200&format=avif&q=${index + 1}`), `198.51.100.${index + 1}`),
    );
    // All hundred have arrived: one runs (on a slow machine, one or two may have finished), the rest wait.
    const arrived = () => Promise.all([metric(api.app, RUNNING), metric(api.app, WAITING), metric(api.app, STORED_AVIF)]);
    const counts = await eventually(arrived, (parts) => parts[0] + parts[1] + parts[2] === 100, 30_000);
    expect(counts[0] + counts[1] + counts[2]).toBe(100);
    expect(counts[1]).toBeGreaterThanOrEqual(90);
    for (const sent of heavy) sent.destroy();

    const settled = () => Promise.all([metric(api.app, WAITING), metric(api.app, ABANDONED_AVIF), metric(api.app, STORED_AVIF)]);
    const [waiting, dropped, made] = await eventually(settled, (parts) => parts[0] === 0 && parts[1] + parts[2] >= 99);
    expect(waiting).toBe(0);
    expect(dropped).toBeGreaterThanOrEqual(counts[1] - 1);
    expect(dropped + made).toBeGreaterThanOrEqual(99);

    // Waits at most for the one transformation still running: sharp cannot stop it halfway.
    const startedAt = performance.now();
    const answer = await request(api.app).get(`/image/${id}?w=256&format=webp`).set('X-Forwarded-For', '203.0.113.50');
    const waitedMs = performance.now() - startedAt;

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/webp');
    expect((await sharp(answer.body as Buffer).metadata()).width).toBe(256);
    expect(waitedMs).toBeLessThan(10_000);
    const stored = (await api.variantsOf(id)).map((variant) => variant.params);
    expect(stored).toContain('w=256&format=webp&q=80');
    expect(stored.length).toBeLessThanOrEqual(made + 2);
  }, 60_000);
});

describe('limits of one client and of one variant', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({
      config: {
        signingKey: SIGNING_KEY,
        apiKeys: API_KEYS.map((key, index) => ({ name: `client-${index}`, key, admin: false })),
        transformConcurrency: 1,
        transformQueue: 10,
        transformQueuePerClient: 2,
        trustProxy: 1,
      },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  test('when one client asks more first variants at once than TRANSFORM_QUEUE_PER_CLIENT, then the rest answer 429 with Retry-After while others are served', async () => {
    const id = await uploadedId(api.app, await makeImage('png', 1000, 750), 'share.png');
    const ask = (quality: number, address: string, key?: string) => {
      const asking = request(api.app).get(signed(id, `w=800&format=avif&q=${quality}`)).set('X-Forwarded-For', address);
      return key === undefined ? asking : asking.set('Authorization', `Bearer ${key}`);
    };

    // One address without a key (an address made up in front of it changes nothing: only the
    // trusted proxy's entry counts), the same address with a key, and another address: three clients.
    const [byAddress, byKey, other] = await Promise.all([
      Promise.all([
        ask(1, '203.0.113.7'),
        ask(2, '203.0.113.7'),
        ask(3, '198.18.0.1, 203.0.113.7'),
      ]),
      Promise.all([4, 5, 6].map((quality) => ask(quality, '203.0.113.7', API_KEYS[0]))),
      ask(7, '203.0.113.8'),
    ]);

    for (const answers of [byAddress, byKey]) {
      expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 429]);
      const [refused] = answers.filter((answer) => answer.status === 429);
      if (refused === undefined) throw new Error('nothing was refused');
      expectProblem(refused, 429, 'too-many-transformations');
      expect(refused.headers['retry-after']).toBe('1');
      expectMatchesContract('GET', '/image/{id}', refused);
    }
    expect(other.status).toBe(200);
    expect(await api.variantsOf(id)).toHaveLength(5);
  }, 60_000);

  test('when a 200-frame 1×1 GIF is asked at 2560×2560 in WebP, then it answers 422 variant-too-large before any work, and smaller animated variants are still made', async () => {
    const id = await uploadedId(api.app, await makeFlatAnimatedGif(1, 1, 200), 'tiny.gif');

    const startedAt = performance.now();
    const refused = await request(api.app).get(signed(id, 'w=2560&h=2560&fit=fill&enlarge=true&format=webp'));

    expectProblem(refused, 422, 'variant-too-large');
    expect((refused.body as { detail: string }).detail).toMatch(/1310720000 pixels, 200 frames counted; at most 50000000 \(MAX_OUTPUT_PIXELS\)/);
    expectMatchesContract('GET', '/image/{id}', refused);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    expect(await api.variantsOf(id)).toEqual([]);
    expect(await metric(api.app, 'image_transformations_total{format="webp",outcome="failed"}')).toBe(0);

    const small = await download(api.app, signed(id, 'w=64&h=64&fit=fill&enlarge=true&format=webp'));
    const made = await sharp(small.bytes, { animated: true }).metadata();
    expect({ width: made.width, pageHeight: made.pageHeight, pages: made.pages }).toEqual({ width: 64, pageHeight: 64, pages: 200 });
  });
});
