import request from 'supertest';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { transformConcurrency: 1, transformQueue: 0 } });
});

afterAll(async () => {
  await api.close();
});

test('when more first requests come than TRANSFORM_CONCURRENCY and TRANSFORM_QUEUE allow, then the rest answer 503 with Retry-After and store nothing', async () => {
  const { id, url } = onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage('png', 1600, 1200), filename: 'slow.png' }]));

  // AVIF takes long enough that all four arrive while the first is being made.
  const answers = await Promise.all([128, 256, 320, 480].map((width) => request(api.app).get(`${url}?w=${width}&format=avif`)));

  const refused = answers.filter((answer) => answer.status === 503);
  const made = answers.filter((answer) => answer.status === 200);
  expect(made.length).toBeGreaterThanOrEqual(1);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  expect(made.length + refused.length).toBe(4);
  for (const answer of refused) {
    expectProblem(answer, 503, 'transformations-busy');
    expect(answer.headers['retry-after']).toBe('1');
  }
  expect(await api.variantsOf(id)).toHaveLength(made.length);
  expect(await api.storedVariants()).toMatchObject({ files: made.length, claimed: made.length });
});
