import request from 'supertest';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'cors-writes-key-0123456789';
const APP = 'https://app.example';
const OTHER = 'https://elsewhere.example';
const READER = 'https://reader.example';

const withKey = (test: request.Test) => test.set('Authorization', `Bearer ${KEY}`);
const preflight = (test: request.Test, origin: string, method: string) =>
  test.set('Origin', origin).set('Access-Control-Request-Method', method).set('Access-Control-Request-Headers', 'authorization');

/** An answer that lets a page of `origin` read it, that origin named, never `*`. */
function expectAllowed(response: request.Response, origin: string): void {
  expect(response.headers['access-control-allow-origin']).toBe(origin);
  expect(response.headers.vary).toMatch(/\bOrigin\b/);
}

/** An answer that names no origin at all, and says that it depends on the origin. */
function expectNotAllowed(response: request.Response): void {
  expect(response.headers['access-control-allow-origin']).toBeUndefined();
  expect(response.headers['access-control-allow-methods']).toBeUndefined();
  expect(response.headers.vary).toMatch(/\bOrigin\b/);
}

describe('CORS_UPLOAD_ORIGINS', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({
      config: { apiKeys: namedKeys(KEY), corsUploadOrigins: [APP], signingKey: 'cors-writes-signing-key-0123456789abcdef' },
    });
  });

  afterAll(async () => {
    await api.close();
  });

  async function storedImageUrl(): Promise<string> {
    return onlyUploadedImage(await withKey(upload(api.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]))).url;
  }

  describe('multipart uploads', () => {
    test('when a listed origin asks to upload, then the preflight names POST and Authorization for it', async () => {
      const response = await preflight(request(api.app).options('/image/upload'), APP, 'POST');

      expect(response.status).toBe(204);
      expectAllowed(response, APP);
      expect(response.headers['access-control-allow-methods']).toBe('POST');
      expect(response.headers['access-control-allow-headers']).toBe('Authorization');
      expect(response.headers['access-control-max-age']).toBe('86400');
    });

    test('when another origin asks, then the preflight allows nothing, and does not name any origin', async () => {
      expectNotAllowed(await preflight(request(api.app).options('/image/upload'), OTHER, 'POST'));
    });

    test('when a listed origin uploads with its key, then 201 it can read, rate limits included, and the image is stored', async () => {
      const response = await withKey(upload(api.app, [{ bytes: await makeImage('jpeg'), filename: 'b.jpg' }])).set('Origin', APP);

      expect(response.status).toBe(201);
      expectAllowed(response, APP);
      expect(response.headers['access-control-expose-headers']).toContain('RateLimit');
      expect((await request(api.app).head(onlyUploadedImage(response).url)).status).toBe(200);
    });

    test('when a listed origin uploads without a key, then the 401 is readable by its page, WWW-Authenticate too', async () => {
      const response = await upload(api.app, [{ bytes: await makeImage('png'), filename: 'c.png' }]).set('Origin', APP);

      expectProblem(response, 401, 'missing-api-key');
      expectAllowed(response, APP);
      expect(response.headers['access-control-expose-headers']).toContain('WWW-Authenticate');
    });

    test('when another origin uploads, then the answer names no origin: its page cannot read it', async () => {
      const response = await withKey(upload(api.app, [{ bytes: await makeImage('png'), filename: 'd.png' }])).set('Origin', OTHER);

      expect(response.status).toBe(201);
      expectNotAllowed(response);
    });
  });

  describe('deletes and signing', () => {
    test('when a listed origin asks to delete, then the preflight adds DELETE and its headers to the reads, for that origin only', async () => {
      const response = await preflight(request(api.app).options('/image/0123456789abcdef01234567'), APP, 'DELETE');

      expect(response.status).toBe(204);
      expectAllowed(response, APP);
      expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD, DELETE');
      expect(response.headers['access-control-allow-headers']).toBe(
        'Range, If-None-Match, If-Modified-Since, If-Range, If-Match, If-Unmodified-Since, Authorization',
      );
    });

    test('when another origin asks, then the preflight is the one for reads, as before', async () => {
      const response = await preflight(request(api.app).options('/image/0123456789abcdef01234567'), OTHER, 'DELETE');

      expect(response.headers['access-control-allow-origin']).toBe('*');
      expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD');
    });

    test('when a listed origin deletes with its key, then 204 it can read, and the image is gone', async () => {
      const url = await storedImageUrl();

      const response = await withKey(request(api.app).delete(url)).set('Origin', APP);

      expect(response.status).toBe(204);
      expectAllowed(response, APP);
      expect((await request(api.app).head(url)).status).toBe(404);
    });

    test('when a listed origin signs, then the preflight names POST, Authorization and Content-Type, and the answer is readable', async () => {
      const url = await storedImageUrl();

      const asked = await preflight(request(api.app).options(`${url}/sign`), APP, 'POST');
      const signed = await withKey(request(api.app).post(`${url}/sign`)).set('Origin', APP).send({ params: 'w=100' });

      expectAllowed(asked, APP);
      expect(asked.headers['access-control-allow-methods']).toBe('POST');
      expect(asked.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
      expect(signed.status).toBe(200);
      expectAllowed(signed, APP);
    });

    test('when another origin deletes, then the answer names no origin', async () => {
      const response = await withKey(request(api.app).delete(await storedImageUrl())).set('Origin', OTHER);

      expect(response.status).toBe(204);
      expectNotAllowed(response);
    });
  });

  describe('resumable uploads', () => {
    const tus = (test: request.Test) => withKey(test).set('Tus-Resumable', '1.0.0');

    test('when a listed origin asks to create one, then the preflight names POST and the tus headers, with Vary: Origin', async () => {
      const response = await preflight(request(api.app).options('/image/uploads'), APP, 'POST');

      expect(response.status).toBe(204);
      expectAllowed(response, APP);
      expect(response.headers['access-control-allow-methods']).toBe('POST');
      expect(response.headers['access-control-allow-headers']).toBe('Authorization, Tus-Resumable, Upload-Length, Upload-Metadata, Content-Type');
      expect(response.headers['tus-version']).toBe('1.0.0');
    });

    test('when a listed origin asks to go on with one, then the preflight names HEAD, PATCH and DELETE', async () => {
      const response = await preflight(request(api.app).options('/image/uploads/0123456789abcdef01234567'), APP, 'PATCH');

      expectAllowed(response, APP);
      expect(response.headers['access-control-allow-methods']).toBe('HEAD, PATCH, DELETE');
      expect(response.headers['access-control-allow-headers']).toBe('Authorization, Tus-Resumable, Upload-Offset, Content-Type');
    });

    test('when another origin asks, then no origin is named, not even a listed one', async () => {
      expectNotAllowed(await preflight(request(api.app).options('/image/uploads'), OTHER, 'POST'));
      expectNotAllowed(await preflight(request(api.app).options('/image/uploads/0123456789abcdef01234567'), OTHER, 'PATCH'));
    });

    test('when a listed origin creates, sends and asks, then each answer is readable, Location and Upload-Offset too', async () => {
      const created = await tus(request(api.app).post('/image/uploads')).set('Origin', APP).set('Upload-Length', '100');
      const sent = await tus(request(api.app).patch(String(created.headers.location)))
        .set('Origin', APP)
        .set('Upload-Offset', '0')
        .set('Content-Type', 'application/offset+octet-stream')
        .send(Buffer.alloc(10));
      const asked = await tus(request(api.app).head(String(created.headers.location))).set('Origin', APP);

      expect([created.status, sent.status, asked.status]).toEqual([201, 204, 200]);
      for (const response of [created, sent, asked]) {
        expectAllowed(response, APP);
        expect(response.headers['access-control-expose-headers']).toContain('Upload-Offset');
      }
      expect(created.headers['access-control-expose-headers']).toContain('Location');
      expect(asked.headers['upload-offset']).toBe('10');
    });

    test('when another origin creates one, then the answer names no origin', async () => {
      const response = await tus(request(api.app).post('/image/uploads')).set('Origin', OTHER).set('Upload-Length', '100');

      expect(response.status).toBe(201);
      expectNotAllowed(response);
    });

    test('when a listed origin is refused, then the problem is readable by its page', async () => {
      const response = await request(api.app).post('/image/uploads').set('Origin', APP).set('Tus-Resumable', '1.0.0').set('Upload-Length', '100');

      expectProblem(response, 401, 'missing-api-key');
      expectAllowed(response, APP);
    });
  });
});

describe('without CORS_UPLOAD_ORIGINS, as by default', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ config: { corsOrigins: [READER] } });
  });

  afterAll(async () => {
    await api.close();
  });

  test('when any origin asks to write, then no preflight of a write allows it', async () => {
    for (const origin of [APP, READER]) {
      expectNotAllowed(await preflight(request(api.app).options('/image/upload'), origin, 'POST'));
      expectNotAllowed(await preflight(request(api.app).options('/image/uploads'), origin, 'POST'));
      expectNotAllowed(await preflight(request(api.app).options('/image/uploads/0123456789abcdef01234567'), origin, 'PATCH'));
    }
  });

  test('when an origin of CORS_ORIGINS asks of an image, then its preflight is for reads only', async () => {
    const response = await preflight(request(api.app).options('/image/0123456789abcdef01234567'), READER, 'DELETE');

    expectAllowed(response, READER);
    expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD');
  });
});

describe('an origin that may write but not read', () => {
  let api: TestApp;

  beforeAll(async () => {
    api = await startTestApp({ config: { corsOrigins: [READER], corsUploadOrigins: [APP] } });
  });

  afterAll(async () => {
    await api.close();
  });

  test("when it asks of an image, then the preflight names DELETE and the write's headers, not the reads", async () => {
    const response = await preflight(request(api.app).options('/image/0123456789abcdef01234567'), APP, 'DELETE');

    expectAllowed(response, APP);
    expect(response.headers['access-control-allow-methods']).toBe('DELETE');
    expect(response.headers['access-control-allow-headers']).toBe('Authorization, If-Match, If-Unmodified-Since, If-None-Match');
  });
});
