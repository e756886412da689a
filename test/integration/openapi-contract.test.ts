import request, { type Response } from 'supertest';
import { loadConfig } from '../../src/config/config';
import { documentedOperations, expectMatchesContract, expressOperations } from '../helpers/contract';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage, pngClaiming, svgWithScript } from '../helpers/images';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'contract-key-0123456789';

describe('the OpenAPI document', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ config: { apiKeys: namedKeys(KEY), maxPixels: 1_000_000 } });
  });

  afterAll(async () => {
    await api.close();
  });

  const withKey = (test: request.Test) => test.set('Authorization', `Bearer ${KEY}`);

  const tus = (test: request.Test) => withKey(test).set('Tus-Resumable', '1.0.0');

  async function createdUploadPath(): Promise<string> {
    const created = await tus(request(api.app).post('/image/uploads').set('Upload-Length', '1000'));
    return String(created.headers.location);
  }

  const patchUpload = (path: string, offset: number, bytes = 100) =>
    tus(request(api.app).patch(path))
      .set('Upload-Offset', String(offset))
      .set('Content-Type', 'application/offset+octet-stream')
      .send(Buffer.alloc(bytes));

  async function storedImageUrl(): Promise<string> {
    return onlyUploadedImage(await withKey(upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]))).url;
  }

  test('when the app is walked, then every route it answers is documented and every documented route exists', () => {
    const routes = expressOperations(api.expressApp);
    // HEAD of an image is answered by its GET route, as Express answers every HEAD.
    const documented = documentedOperations().filter((operation) => operation !== 'HEAD /image/{id}');

    expect([...routes].sort()).toEqual([...documented].sort());
  });

  test('when it is fetched, then /openapi.json is the document and /docs serves Swagger UI from this server', async () => {
    const document = await request(api.app).get('/openapi.json');
    const docs = await request(api.app).get('/docs');
    const bundle = await request(api.app).get('/docs/swagger-ui-bundle.js');

    expectMatchesContract('GET', '/openapi.json', document);
    expect((document.body as { openapi: string }).openapi).toBe('3.1.0');
    expectMatchesContract('GET', '/docs', docs);
    expect(docs.text).toContain('/openapi.json');
    expect(bundle.status).toBe(200);
  });

  test('when the server has its settings, then the document states their limits as the server enforces them', async () => {
    const { presets } = loadConfig({ PRESETS: 'small:w=100;large:w=800' });
    const limited = await startTestApp({ config: { maxFiles: 3, maxFileSize: 1000, presets } });
    try {
      const document = (await request(limited.app).get('/openapi.json')).body as Record<string, unknown>;
      const at = (path: string) => path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], document);
      const parameter = (path: string, method: string, name: string) =>
        (at(`paths.${path}.${method}.parameters`) as { name: string; schema: unknown }[]).find((each) => each.name === name)?.schema;

      expect(at('paths./image/upload.post.requestBody.content.multipart/form-data.schema.properties.images')).toMatchObject({ minItems: 1, maxItems: 3 });
      expect(parameter('/image', 'get', 'cursor')).toMatchObject({ minLength: 1 });
      expect(parameter('/image/{id}', 'get', 'preset')).toEqual({ type: 'string', enum: ['small', 'large'] });
      expect(parameter('/image/uploads', 'post', 'Upload-Length')).toMatchObject({ maximum: 1000 });
      expect(at('components.schemas.SignRequest.properties.expiresIn')).toMatchObject({ maximum: 315_360_000 });
    } finally {
      await limited.close();
    }
  });

  test.each<[string, string, string, () => Promise<Response>]>([
    ['201', 'POST', '/image/upload', async () => withKey(upload(api.app, [{ bytes: await makeImage('jpeg'), filename: 'b.jpg' }]))],
    ['400', 'POST', '/image/upload', async () => withKey(request(api.app).post('/image/upload').send({ json: true }))],
    ['401', 'POST', '/image/upload', async () => upload(api.app, [{ bytes: await makeImage('png'), filename: 'c.png' }])],
    ['403', 'POST', '/image/upload', async () => upload(api.app, []).set('Authorization', 'Bearer not-the-key-0123456789')],
    ['413', 'POST', '/image/upload', async () => withKey(upload(api.app, [{ bytes: pngClaiming(5000, 5000, 1000), filename: 'big.png' }]))],
    ['415', 'POST', '/image/upload', async () => withKey(upload(api.app, [{ bytes: svgWithScript, filename: 'd.svg' }]))],
    ['200', 'GET', '/image', async () => withKey(request(api.app).get('/image?limit=2'))],
    ['304', 'GET', '/image', async () => {
      const { etag } = (await withKey(request(api.app).get('/image'))).headers;
      return withKey(request(api.app).get('/image')).set('If-None-Match', String(etag));
    }],
    ['400', 'GET', '/image', async () => withKey(request(api.app).get('/image?limit=0'))],
    ['401', 'GET', '/image', async () => request(api.app).get('/image')],
    ['200', 'GET', '/image/{id}', async () => request(api.app).get(await storedImageUrl())],
    ['206', 'GET', '/image/{id}', async () => request(api.app).get(await storedImageUrl()).set('Range', 'bytes=0-9')],
    ['304', 'GET', '/image/{id}', async () => {
      const url = await storedImageUrl();
      const etag = String((await request(api.app).head(url)).headers.etag);
      return request(api.app).get(url).set('If-None-Match', etag);
    }],
    ['400', 'GET', '/image/{id}', async () => request(api.app).get('/image/nope')],
    ['200', 'GET', '/image/{id}', async () => request(api.app).get(`${await storedImageUrl()}?w=64&format=webp`)],
    ['400', 'GET', '/image/{id}', async () => request(api.app).get(`${await storedImageUrl()}?w=63`)],
    ['404', 'GET', '/image/{id}', async () => request(api.app).get('/image/0123456789abcdef01234567')],
    ['416', 'GET', '/image/{id}', async () => request(api.app).get(await storedImageUrl()).set('Range', 'bytes=999999-')],
    ['412', 'GET', '/image/{id}', async () => request(api.app).get(await storedImageUrl()).set('If-Match', '"other"')],
    ['412', 'HEAD', '/image/{id}', async () => request(api.app).head(await storedImageUrl()).set('If-Unmodified-Since', 'Thu, 01 Jan 2015 00:00:00 GMT')],
    ['200', 'HEAD', '/image/{id}', async () => request(api.app).head(await storedImageUrl())],
    ['204', 'OPTIONS', '/image/{id}', async () => request(api.app).options('/image/0123456789abcdef01234567')],
    ['204', 'OPTIONS', '/image/upload', async () => request(api.app).options('/image/upload')],
    ['204', 'OPTIONS', '/image/{id}/sign', async () => request(api.app).options('/image/0123456789abcdef01234567/sign')],
    ['200', 'GET', '/image/{id}/info', async () => withKey(request(api.app).get(`${await storedImageUrl()}/info`))],
    ['404', 'GET', '/image/{id}/info', async () => withKey(request(api.app).get('/image/0123456789abcdef01234567/info'))],
    ['401', 'GET', '/image/{id}/info', async () => request(api.app).get('/image/0123456789abcdef01234567/info')],
    ['204', 'DELETE', '/image/{id}', async () => withKey(request(api.app).delete(await storedImageUrl()))],
    ['412', 'DELETE', '/image/{id}', async () => withKey(request(api.app).delete(await storedImageUrl())).set('If-Match', '"other"')],
    ['404', 'DELETE', '/image/{id}', async () => withKey(request(api.app).delete('/image/0123456789abcdef01234567'))],
    ['401', 'DELETE', '/image/{id}', async () => request(api.app).delete('/image/0123456789abcdef01234567')],
    ['501', 'POST', '/image/{id}/sign', async () => withKey(request(api.app).post(`${await storedImageUrl()}/sign`).send({ params: 'w=300' }))],
    ['204', 'OPTIONS', '/image/uploads', async () => request(api.app).options('/image/uploads')],
    ['201', 'POST', '/image/uploads', async () => tus(request(api.app).post('/image/uploads').set('Upload-Length', '1000'))],
    ['401', 'POST', '/image/uploads', async () => request(api.app).post('/image/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '1')],
    ['412', 'POST', '/image/uploads', async () => withKey(request(api.app).post('/image/uploads').set('Upload-Length', '1'))],
    ['413', 'POST', '/image/uploads', async () => tus(request(api.app).post('/image/uploads').set('Upload-Length', String(2 ** 40)))],
    ['204', 'OPTIONS', '/image/uploads/{uploadId}', async () => request(api.app).options(await createdUploadPath())],
    ['200', 'HEAD', '/image/uploads/{uploadId}', async () => tus(request(api.app).head(await createdUploadPath()))],
    ['204', 'PATCH', '/image/uploads/{uploadId}', async () => patchUpload(await createdUploadPath(), 0)],
    ['404', 'PATCH', '/image/uploads/{uploadId}', async () => patchUpload('/image/uploads/0123456789abcdef01234567', 0)],
    ['409', 'PATCH', '/image/uploads/{uploadId}', async () => patchUpload(await createdUploadPath(), 10)],
    ['413', 'PATCH', '/image/uploads/{uploadId}', async () => patchUpload(await createdUploadPath(), 0, 2000)],
    ['204', 'DELETE', '/image/uploads/{uploadId}', async () => tus(request(api.app).delete(await createdUploadPath()))],
    ['200', 'GET', '/healthz', async () => request(api.app).get('/healthz')],
    ['200', 'GET', '/readyz', async () => request(api.app).get('/readyz')],
    ['200', 'GET', '/metrics', async () => request(api.app).get('/metrics')],
    ['200', 'GET', '/client-settings', async () => request(api.app).get('/client-settings')],
    ['304', 'GET', '/openapi.json', async () => {
      const { etag } = (await request(api.app).get('/openapi.json')).headers;
      return request(api.app).get('/openapi.json').set('If-None-Match', String(etag));
    }],
    ['200', 'GET', '/', async () => request(api.app).get('/')],
  ])('when a request gets %s from %s %s, then the answer matches the document', async (status, method, path, send) => {
    const response = await send();

    expect(String(response.status)).toBe(status);
    expectMatchesContract(method, path, response);
  });
});
