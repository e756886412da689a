import type { RequestListener } from 'node:http';
import { ObjectId } from 'mongodb';
import request from 'supertest';
import { download, onlyUploadedImage, upload, type UploadedImage } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const LONG_AGO = 'Thu, 01 Jan 2015 00:00:00 GMT';
const MISSING_ID = '0123456789abcdef01234567';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

async function store(format: 'png' | 'jpeg' = 'png'): Promise<UploadedImage> {
  return onlyUploadedImage(await upload(api.app, [{ bytes: await makeImage(format), filename: `a.${format}` }]));
}

async function validatorsOf(url: string): Promise<{ etag: string; lastModified: string }> {
  const head = await request(api.app).head(url);
  return { etag: String(head.headers.etag), lastModified: String(head.headers['last-modified']) };
}

const paths: [string, () => RequestListener][] = [
  ['the app as served', () => api.app],
  ['Express alone', () => api.expressApp],
];

describe.each(paths)('reads through %s', (_name, appOf) => {
  test('when If-Match names another ETag, then 412 precondition-failed and none of the image is sent', async () => {
    const image = await store();

    const response = await request(appOf()).get(image.url).set('If-Match', '"nope"');

    expectProblem(response, 412, 'precondition-failed');
    expect(response.body).toMatchObject({ detail: expect.stringContaining('If-Match') as unknown });
    expect(response.headers.etag).toBeUndefined();
    expect(response.headers['access-control-allow-origin']).toBe('*');
  });

  test('when If-Match names the ETag, or is *, then the whole image', async () => {
    const bytes = await makeImage('jpeg');
    const image = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'b.jpg' }]));
    const { etag } = await validatorsOf(image.url);

    const exact = await download(appOf(), image.url, { 'If-Match': etag });
    const listed = await download(appOf(), image.url, { 'If-Match': `"other", ${etag}` });
    const any = await download(appOf(), image.url, { 'If-Match': '*' });

    for (const response of [exact, listed, any]) {
      expect(response.status).toBe(200);
      expect(response.bytes.equals(bytes)).toBe(true);
    }
  });

  test('when If-Match names the ETag as weak, then 412: If-Match compares strongly', async () => {
    const image = await store();
    const { etag } = await validatorsOf(image.url);

    const response = await request(appOf()).get(image.url).set('If-Match', `W/${etag}`);

    expectProblem(response, 412, 'precondition-failed');
  });

  test('when a failing If-Match comes with a Range, then 412, not 206', async () => {
    const image = await store();

    const response = await request(appOf()).get(image.url).set('If-Match', '"nope"').set('Range', 'bytes=0-9');

    expectProblem(response, 412, 'precondition-failed');
    expect(response.headers['content-range']).toBeUndefined();
  });

  test('when If-Match holds and a Range is asked, then 206 of that range', async () => {
    const image = await store();
    const { etag } = await validatorsOf(image.url);

    const response = await download(appOf(), image.url, { 'If-Match': etag, Range: 'bytes=0-9' });

    expect(response.status).toBe(206);
    expect(response.bytes).toHaveLength(10);
  });

  test('when a failing If-Match comes with a matching If-None-Match, then 412: If-Match is evaluated first', async () => {
    const image = await store();
    const { etag } = await validatorsOf(image.url);

    const response = await request(appOf()).get(image.url).set('If-Match', '"nope"').set('If-None-Match', etag);

    expectProblem(response, 412, 'precondition-failed');
  });

  test('when If-Match holds and If-None-Match matches, then 304', async () => {
    const image = await store();
    const { etag } = await validatorsOf(image.url);

    const response = await request(appOf()).get(image.url).set('If-Match', etag).set('If-None-Match', etag);

    expect(response.status).toBe(304);
  });

  test('when If-Unmodified-Since is before the upload, then 412, also beside an If-Modified-Since that would 304', async () => {
    const image = await store();

    const alone = await request(appOf()).get(image.url).set('If-Unmodified-Since', LONG_AGO);
    const withModifiedSince = await request(appOf()).get(image.url).set('If-Unmodified-Since', LONG_AGO).set('If-Modified-Since', new Date().toUTCString());
    const withRange = await request(appOf()).get(image.url).set('If-Unmodified-Since', LONG_AGO).set('Range', 'bytes=0-9');

    for (const response of [alone, withModifiedSince, withRange]) {
      expectProblem(response, 412, 'precondition-failed');
      expect(response.body).toMatchObject({ detail: expect.stringContaining('If-Unmodified-Since') as unknown });
    }
  });

  test('when If-Unmodified-Since is at the upload or is not a date, then the image', async () => {
    const image = await store();
    const { lastModified } = await validatorsOf(image.url);

    const atUpload = await request(appOf()).get(image.url).set('If-Unmodified-Since', lastModified);
    const notADate = await request(appOf()).get(image.url).set('If-Unmodified-Since', 'yesterday');

    expect(atUpload.status).toBe(200);
    expect(notADate.status).toBe(200);
  });

  test('when If-Match holds, then If-Unmodified-Since is not evaluated', async () => {
    const image = await store();
    const { etag } = await validatorsOf(image.url);

    const response = await request(appOf()).get(image.url).set('If-Match', etag).set('If-Unmodified-Since', LONG_AGO);

    expect(response.status).toBe(200);
  });

  test('when a HEAD fails its precondition, then 412 with no body', async () => {
    const image = await store();

    const response = await request(appOf()).head(image.url).set('If-Match', '"nope"');

    expect(response.status).toBe(412);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.text).toBeUndefined();
  });

  test('when a variant is read with If-Match, then it is compared with the ETag of the variant', async () => {
    const image = await store();
    const variantUrl = `${image.url}?w=64&format=webp`;
    const { etag: originalEtag } = await validatorsOf(image.url);
    const { etag: variantEtag } = await validatorsOf(variantUrl);

    const withOriginalTag = await request(appOf()).get(variantUrl).set('If-Match', originalEtag);
    const withVariantTag = await download(appOf(), variantUrl, { 'If-Match': variantEtag });

    expectProblem(withOriginalTag, 412, 'precondition-failed');
    expect(withVariantTag.status).toBe(200);
    expect(withVariantTag.headers['content-type']).toBe('image/webp');
  });

  test('when the image does not exist, then 404 whatever the preconditions (RFC 9110, 13.2.1)', async () => {
    const response = await request(appOf()).get(`/image/${MISSING_ID}`).set('If-Match', '*');

    expectProblem(response, 404, 'image-not-found');
  });
});

describe.each(paths)('deletes through %s', (_name, appOf) => {
  const filesOf = (id: string) => api.db.collection('images.files').countDocuments({ _id: new ObjectId(id) });

  async function expectKept(image: UploadedImage): Promise<void> {
    expect((await request(api.app).head(image.url)).status).toBe(200);
    expect(await filesOf(image.id)).toBe(1);
  }

  test('when If-Match names another ETag, then 412 and the image, its chunks and its variants stay', async () => {
    const image = await store();
    await request(api.app).get(`${image.url}?w=64`).expect(200);
    const before = { stored: await api.stored(), variants: (await api.variantsOf(image.id)).length };

    const response = await request(appOf()).delete(image.url).set('If-Match', '"nope"');

    expectProblem(response, 412, 'precondition-failed');
    expect(response.body).toMatchObject({ detail: expect.stringContaining('not deleted') as unknown });
    await expectKept(image);
    expect(await api.stored()).toEqual(before.stored);
    expect(await api.variantsOf(image.id)).toHaveLength(before.variants);
  });

  test('when If-Unmodified-Since is before the upload, then 412 and the image stays', async () => {
    const image = await store();

    const response = await request(appOf()).delete(image.url).set('If-Unmodified-Since', LONG_AGO);

    expectProblem(response, 412, 'precondition-failed');
    await expectKept(image);
  });

  test('when If-None-Match is * or the ETag, then 412 and the image stays', async () => {
    const image = await store();
    const { etag } = await validatorsOf(image.url);

    const any = await request(appOf()).delete(image.url).set('If-None-Match', '*');
    const same = await request(appOf()).delete(image.url).set('If-None-Match', etag);

    expectProblem(any, 412, 'precondition-failed');
    expectProblem(same, 412, 'precondition-failed');
    await expectKept(image);
  });

  test('when If-Match names the ETag, or is *, then 204 and the image is gone', async () => {
    const [first, second] = [await store(), await store('jpeg')];
    const { etag } = await validatorsOf(first.url);

    const exact = await request(appOf()).delete(first.url).set('If-Match', etag);
    const any = await request(appOf()).delete(second.url).set('If-Match', '*');

    expect(exact.status).toBe(204);
    expect(any.status).toBe(204);
    for (const image of [first, second]) {
      expect((await request(api.app).get(image.url)).status).toBe(404);
      expect(await filesOf(image.id)).toBe(0);
    }
  });

  test('when If-Unmodified-Since is at the upload, then 204', async () => {
    const image = await store();
    const { lastModified } = await validatorsOf(image.url);

    const response = await request(appOf()).delete(image.url).set('If-Unmodified-Since', lastModified);

    expect(response.status).toBe(204);
    expect((await request(api.app).get(image.url)).status).toBe(404);
  });

  test('when the image does not exist, then 404 whatever the preconditions', async () => {
    const response = await request(appOf()).delete(`/image/${MISSING_ID}`).set('If-Match', '*');

    expectProblem(response, 404, 'image-not-found');
  });
});

describe('deletes with keys', () => {
  const ALICE = 'alice-key-0123456789';
  const BOB = 'bob-key-0123456789ab';
  let keyed: TestApp;

  beforeAll(async () => {
    keyed = await startTestApp({ config: { apiKeys: namedKeys(ALICE, BOB) } });
  });

  afterAll(async () => {
    await keyed.close();
  });

  test("when another key's image is deleted with If-Match: *, then 404, as if it did not exist, and it stays", async () => {
    const image = onlyUploadedImage(
      await upload(keyed.app, [{ bytes: await makeImage('png'), filename: 'a.png' }]).set('Authorization', `Bearer ${ALICE}`),
    );

    const response = await request(keyed.app).delete(image.url).set('Authorization', `Bearer ${BOB}`).set('If-Match', '*');

    expectProblem(response, 404, 'image-not-found');
    expect((await request(keyed.app).head(image.url)).status).toBe(200);
  });

  test("when the owner's If-Match fails, then 412; when it holds, then 204", async () => {
    const image = onlyUploadedImage(
      await upload(keyed.app, [{ bytes: await makeImage('jpeg'), filename: 'b.jpg' }]).set('Authorization', `Bearer ${ALICE}`),
    );
    const etag = String((await request(keyed.app).head(image.url)).headers.etag);
    const remove = (ifMatch: string) => request(keyed.app).delete(image.url).set('Authorization', `Bearer ${ALICE}`).set('If-Match', ifMatch);

    expectProblem(await remove('"nope"'), 412, 'precondition-failed');
    expect((await request(keyed.app).head(image.url)).status).toBe(200);
    expect((await remove(etag)).status).toBe(204);
    expect((await request(keyed.app).head(image.url)).status).toBe(404);
  });
});
