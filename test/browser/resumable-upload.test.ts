import { MongoClient, type Db } from 'mongodb';
import type { Request } from 'playwright-core';
import { uploadStateCollectionName } from '../../src/storage/upload-state-repository';
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
  let client: MongoClient;
  let db: Db;

  beforeAll(async () => {
    const uri = uriOfNewDatabase();
    server = await startListeningServer({ MONGODB_URI: uri });
    link = await openSlowLink(Number(new URL(server.baseUrl).port), 3 * MIB);
    client = await MongoClient.connect(uri);
    db = client.db();
  });

  afterAll(async () => {
    await client.close();
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

  test('when a large upload is cancelled on its way, then its line says so after showing its speed, and nothing of it is left', async () => {
    const bytes = await makeLargePng(12 * MIB);
    const { page, consoleErrors } = await browser.newPage();
    await page.goto(`http://127.0.0.1:${link.port}`);
    const uploadStates = () => db.collection(uploadStateCollectionName('images')).countDocuments();
    const statesBefore = await uploadStates();
    const filesBefore = await db.collection('images.files').countDocuments();

    await pickFiles(page, [{ name: 'cancelled.png', mimeType: 'image/png', buffer: bytes }]);
    const row = uploadRow(page, 'cancelled.png');
    await page.waitForFunction(() => (document.querySelector<HTMLProgressElement>('#uploads progress')?.value ?? 0) >= 1024 * 1024);
    const statusWhileSending = await row.locator('.upload-status').innerText();
    // The server holds an upload locked (423) until it sees the aborted PATCH end; tus retries the DELETE.
    const termination = page.waitForResponse((response) => response.request().method() === 'DELETE' && response.status() !== 423);
    await row.getByRole('button', { name: 'Cancel the upload of cancelled.png' }).click();

    expect(statusWhileSending).toMatch(/ of 12(\.\d+)? MiB, [\d.]+ [KM]iB\/s$/);
    expect(await uploadOutcome(page, 'cancelled.png')).toEqual({ state: 'cancelled', text: 'Cancelled' });
    expect((await termination).status()).toBe(204);
    expect(await uploadStates()).toBe(statesBefore);
    expect(await db.collection('images.files').countDocuments()).toBe(filesBefore);
    expect(await db.collection('images.chunks').countDocuments({ 'files_id': { $nin: await storedFileIds(db) } })).toBe(0);
    expect(consoleErrors).toEqual([]);
  });
});

async function storedFileIds(db: Db): Promise<unknown[]> {
  return (await db.collection('images.files').find({}, { projection: { _id: 1 } }).toArray()).map((file) => file._id);
}
