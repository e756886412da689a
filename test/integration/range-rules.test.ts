import request from 'supertest';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { startTestApp, type TestApp } from '../helpers/test-app';

let api: TestApp;
let url: string;
let bytes: Buffer;

beforeAll(async () => {
  api = await startTestApp();
  bytes = await makeImage('png', 300, 200);
  ({ url } = onlyUploadedImage(await upload(api.app, [{ bytes, filename: 'ranges.png' }])));
});

afterAll(async () => {
  await api.close();
});

/** The table of ranges in docs/api.md, with an image of `size` bytes: what each `Range` gets. */
function rangeRules(size: number): [string, number, string | undefined, [number, number] | undefined][] {
  return [
    ['bytes=0-1', 206, `bytes 0-1/${size}`, [0, 2]],
    ['bytes=-5', 206, `bytes ${size - 5}-${size - 1}/${size}`, [size - 5, size]],
    [`bytes=${size - 5}-9999999`, 206, `bytes ${size - 5}-${size - 1}/${size}`, [size - 5, size]],
    ['bytes=0-1, 999999999-', 206, `bytes 0-1/${size}`, [0, 2]],
    ['bytes=0-5,3-9', 206, `bytes 0-9/${size}`, [0, 10]],
    ['bytes=0-1,5-6', 200, undefined, [0, size]],
    ['bytes=999999999-', 416, `bytes */${size}`, undefined],
    ['bytes=5-2', 416, `bytes */${size}`, undefined],
    ['bytes=abc', 200, undefined, [0, size]],
    ['items=0-1', 200, undefined, [0, size]],
  ];
}

test('when ranges of every kind docs/api.md lists are asked, then each gets the status, Content-Range and bytes it says', async () => {
  for (const [range, status, contentRange, slice] of rangeRules(bytes.length)) {
    const response = await download(api.app, url, { Range: range });

    expect([range, response.status, response.headers['content-range']]).toEqual([range, status, contentRange]);
    if (slice) expect(Buffer.compare(response.bytes, bytes.subarray(...slice))).toBe(0);
  }
});

test('when a HEAD asks a range, then it gets the whole image\'s headers', async () => {
  const response = await request(api.app).head(url).set('Range', 'bytes=0-1');

  expect(response.status).toBe(200);
  expect(response.headers['content-length']).toBe(String(bytes.length));
});
