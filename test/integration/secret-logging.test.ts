import request from 'supertest';
import { upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { captureLogs } from '../helpers/logs';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'logged-never-0123456789';
const WRONG_KEY = 'wrong-guess-0123456789';

const captured = captureLogs();
let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { apiKeys: namedKeys(KEY), uploadRateLimit: 2 }, logger: captured.logger });
});

afterAll(async () => {
  await api.close();
});

describe('API keys in logs', () => {
  test('when uploads succeed, fail, and are refused for their key or their rate, then no key is ever logged', async () => {
    const withKey = (authorization: string) => request(api.app).post('/image/upload').set('Authorization', authorization);
    const bytes = await makeImage('png');
    const statuses = [
      (await upload(api.app, [{ bytes, filename: 'a.png' }]).set('Authorization', `Bearer ${KEY}`)).status,
      (await withKey(`Bearer ${KEY}`).send({ not: 'multipart' })).status,
      (await withKey(`Bearer ${KEY}`)).status,
      (await withKey(`Bearer ${WRONG_KEY}`)).status,
      (await withKey(`Basic ${KEY}`)).status,
      (await withKey(`Token ${KEY}`)).status,
    ];

    expect(statuses).toEqual([201, 400, 429, 403, 401, 429]);
    for (const code of ['not-multipart', 'rate-limited', 'invalid-api-key', 'missing-api-key']) {
      expect(captured.output()).toContain(code);
    }
    expect(captured.output()).not.toContain(KEY);
    expect(captured.output()).not.toContain(WRONG_KEY);
  });

  test('when URLs carry a signature or keys in their query, then their values reach neither the logs nor the problem instance', async () => {
    const secrets = ['SIGVALUE0123', 'APIKEYVALUE0123', 'TOKENVALUE0123'];
    const query = `?w=64&sig=${secrets[0] ?? ''}&API_KEY=${secrets[1] ?? ''}&token=${secrets[2] ?? ''}#sig=fragment`;
    const redacted = '?w=64&sig=[redacted]&API_KEY=[redacted]&token=[redacted]';

    const answers = [
      await request(api.app).get(`/image/not-an-id${query}`),
      await request(api.expressApp).get(`/image/not-an-id${query}`),
      await request(api.app).get(`/nowhere${query}`),
    ];

    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 404]);
    expect(answers.map((answer) => (answer.body as { instance: string }).instance)).toEqual([
      `/image/not-an-id${redacted}`,
      `/image/not-an-id${redacted}`,
      `/nowhere${redacted}`,
    ]);
    const requestLines = captured.lines.filter((line) => line.msg === 'request completed' && JSON.stringify(line).includes('[redacted]'));
    expect(requestLines.length).toBeGreaterThanOrEqual(3);
    for (const secret of secrets) expect(captured.output()).not.toContain(secret);
  });

  test('when something logs request headers or the config, then the key is censored', () => {
    const { logger, output } = captureLogs();

    logger.info({ req: { headers: { authorization: `Bearer ${KEY}` } } }, 'a request');
    logger.info({ headers: { authorization: `Bearer ${KEY}` } }, 'some headers');
    logger.info({ config: { apiKeys: namedKeys(KEY) } }, 'the config');

    expect(output()).not.toContain(KEY);
    expect(output().match(/\[redacted\]/g)).toHaveLength(3);
  });
});
