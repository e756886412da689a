import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useBrowser } from '../helpers/browser';
import { makeImage, sha256 } from '../helpers/images';
import { listen, type RunningServer } from '../helpers/server';
import { namedKeys, startTestApp, type TestApp } from '../helpers/test-app';

const KEY = 'cross-origin-key-0123456789';

/** A page of another web app, on a port of its own: another origin than the API's. */
function startPageServer(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>another app</title><p>another app</p>');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

interface Outcome {
  readonly uploaded: number;
  readonly id: string;
  readonly created: number;
  readonly location: string | null;
  readonly sent: number;
  readonly resumableImage: string | null;
  readonly deleted: number;
}

interface Writing {
  readonly api: string;
  readonly key: string;
  readonly bytes: readonly number[];
}

/**
 * What the other app's script does with the API and a key, run in its page: an upload, a
 * resumable one, a delete.
 */
async function writeWithKey({ api, key, bytes }: Writing): Promise<Outcome> {
  const auth = { Authorization: `Bearer ${key}` };
  const image = new Blob([new Uint8Array(bytes)], { type: 'image/png' });
  const form = new FormData();
  form.append('images', image, 'from-another-app.png');
  const uploaded = await fetch(`${api}/image/upload`, { method: 'POST', headers: auth, body: form });
  const { images } = (await uploaded.json()) as { images: { id: string }[] };

  const tus = { ...auth, 'Tus-Resumable': '1.0.0' };
  const created = await fetch(`${api}/image/uploads`, {
    method: 'POST',
    headers: { ...tus, 'Upload-Length': String(bytes.length), 'Upload-Metadata': `filename ${btoa('resumed.png')}` },
  });
  const location = created.headers.get('Location');
  const sent = await fetch(`${api}${location ?? ''}`, {
    method: 'PATCH',
    headers: { ...tus, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
    body: image,
  });

  const deleted = await fetch(`${api}/image/${images[0]?.id ?? ''}`, { method: 'DELETE', headers: auth });
  return {
    uploaded: uploaded.status,
    id: images[0]?.id ?? '',
    created: created.status,
    location,
    sent: sent.status,
    resumableImage: sent.headers.get('X-Image-Id'),
    deleted: deleted.status,
  };
}

describe('a web app on another origin, listed in CORS_UPLOAD_ORIGINS', () => {
  const browser = useBrowser();
  const running: { pages?: Server; api?: TestApp; server?: RunningServer } = {};
  const pagePort = () => (running.pages?.address() as AddressInfo).port;
  const apiUrl = () => `http://127.0.0.1:${String(running.server?.port)}`;

  beforeAll(async () => {
    running.pages = await startPageServer();
    // 127.0.0.1 and localhost are two origins for the same page server: only the first is listed.
    running.api = await startTestApp({ config: { apiKeys: namedKeys(KEY), corsUploadOrigins: [`http://127.0.0.1:${pagePort()}`] } });
    running.server = await listen(running.api.app, running.api.config);
  });

  afterAll(async () => {
    await running.server?.close();
    await running.api?.close();
    await new Promise((done) => running.pages?.close(done));
  });

  test('when its page uploads, uploads resumably and deletes with a key, then the browser lets it and reads every answer', async () => {
    const bytes = await makeImage('png', 64, 48);
    const { page, consoleErrors } = await browser.newPage();
    await page.goto(`http://127.0.0.1:${pagePort()}/`);

    const outcome = await page.evaluate(writeWithKey, { api: apiUrl(), key: KEY, bytes: [...bytes] });

    expect(outcome).toMatchObject({ uploaded: 201, created: 201, sent: 204, deleted: 204 });
    expect(outcome.location).toMatch(/^\/image\/uploads\/[0-9a-f]{24}$/);
    const resumed = await fetch(`${apiUrl()}/image/${outcome.resumableImage ?? ''}`);
    expect(sha256(Buffer.from(await resumed.arrayBuffer()))).toBe(sha256(bytes));
    expect((await fetch(`${apiUrl()}/image/${outcome.id}`)).status).toBe(404);
    expect(consoleErrors).toEqual([]);
  });

  test('when a page of an origin not listed tries the same, then the browser stops it at the preflight, and nothing is stored', async () => {
    const before = await running.api?.stored();
    const { page } = await browser.newPage();
    await page.goto(`http://localhost:${pagePort()}/`);

    const refused = await page.evaluate(
      async ({ api, key, bytes }: Writing) => {
        const form = new FormData();
        form.append('images', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'refused.png');
        try {
          await fetch(`${api}/image/upload`, { method: 'POST', headers: { Authorization: `Bearer ${key}` }, body: form });
          return 'sent';
        } catch (error) {
          return (error as Error).name;
        }
      },
      { api: apiUrl(), key: KEY, bytes: [...(await makeImage('png'))] },
    );

    expect(refused).toBe('TypeError');
    expect(await running.api?.stored()).toEqual(before);
  });
});
