import { createServer } from 'node:http';
import request from 'supertest';
import { sendProblem } from '../../src/http/problem-responder';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { captureLogs, LEVEL } from '../helpers/logs';
import { startTestApp, type TestApp } from '../helpers/test-app';

describe('problems in the log', () => {
  const captured = captureLogs();
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ logger: captured.logger });
  });

  afterAll(async () => {
    await api.close();
  });

  test('when a URL is to be signed without SIGNING_KEY, then the documented 501 is a warning without a stack', async () => {
    const { url } = onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]));

    const response = await request(api.app).post(`${url}/sign`).send({ params: 'w=320' });

    expect(response.status).toBe(501);
    const logged = captured.lines.filter((line) => line.code === 'signing-not-configured');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: LEVEL.warn, detail: 'Set SIGNING_KEY to sign URLs.' });
    expect(JSON.stringify(logged[0])).not.toContain('stack');
  });
});

test('when something nobody planned fails, then it is logged as an error with its stack and answered 500', async () => {
  const captured = captureLogs();
  const server = createServer((req, res) => sendProblem(captured.logger, new Error('the unplanned'), req, res));

  const response = await request(server).get('/anything');

  expect(response.status).toBe(500);
  expect(response.body).toMatchObject({ code: 'internal-error' });
  const [logged] = captured.lines.filter((line) => line.code === 'internal-error');
  expect(logged).toMatchObject({ level: LEVEL.error, err: { message: 'the unplanned' } });
  expect(JSON.stringify(logged)).toContain('stack');
});
