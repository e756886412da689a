import type { Request } from 'playwright-core';
import { useBrowser } from '../helpers/browser';
import { makeLargePng, sha256 } from '../helpers/images';
import { startListeningServer, type ListeningServer } from '../helpers/server-process';
import { openSlowLink, type SlowLink } from '../helpers/slow-link';
import { uriOfNewDatabase } from '../helpers/test-app';
import { galleryImageId, pickFiles, uploadOutcome, uploadRow } from '../helpers/web-page';

const MIB = 1024 * 1024;

/** The server runs as a process of its own: what a dropped connection leaves running there stays out of jest's. */
describe('a large upload from the web page', () => {
  const browser = useBrowser();
  let server: ListeningServer;
  let link: SlowLink;

  beforeAll(async () => {
    server = await startListeningServer({ MONGODB_URI: uriOfNewDatabase() });
    link = await openSlowLink(Number(new URL(server.baseUrl).port), 3 * MIB);
  });

  afterAll(async () => {
    await link.close();
    await server.stop();
  });

  test('when the network drops mid-upload for a moment, then it resumes by itself and the stored bytes are the ones picked', async () => {
    const bytes = await makeLargePng(12 * MIB);
    const baseUrl = `http://127.0.0.1:${link.port}`;
    const { context, page } = await browser.newPage();
    const requests: string[] = [];
    const named = (request: Request) => `${request.method()} ${new URL(request.url()).pathname.replace(/[0-9a-f]{24}$/, '<id>')}`;
    page.on('request', (request) => requests.push(named(request)));
    await page.goto(baseUrl);

    await pickFiles(page, [{ name: 'large.png', mimeType: 'image/png', buffer: bytes }]);
    await page.waitForFunction(() => (document.querySelector<HTMLProgressElement>('#uploads progress')?.value ?? 0) >= 1024 * 1024);
    await context.setOffline(true);
    link.dropConnections();
    await uploadRow(page, 'large.png').and(page.locator('[data-state="waiting"]')).waitFor();
    const sentBeforeTheCut = [...requests];
    await context.setOffline(false);

    expect(await uploadOutcome(page, 'large.png', 60_000)).toEqual({ state: 'stored', text: 'Stored' });
    const id = await galleryImageId(page, 'large.png');
    const stored = Buffer.from(await (await fetch(`${baseUrl}/image/${id}`)).arrayBuffer());
    expect(sha256(stored)).toBe(sha256(bytes));
    expect(sentBeforeTheCut).toContain('POST /image/uploads');
    expect(sentBeforeTheCut).not.toContain('HEAD /image/uploads/<id>');
    // tus asks how much arrived before it sends the rest: the upload went on from there, not from the start.
    expect(requests.slice(sentBeforeTheCut.length)).toContain('HEAD /image/uploads/<id>');
    expect(requests).not.toContain('POST /image/upload');
  });
});
