import { MongoClient, ObjectId } from 'mongodb';
import { RESUMABLE_CHUNK_SIZE } from '../../src/uploads/resumable/resumable-uploads';
import { countChunks } from '../helpers/chunks';
import { makeLargePng, sha256 } from '../helpers/images';
import { startListeningServer, type ListeningServer } from '../helpers/server-process';
import { uriOfNewDatabase } from '../helpers/test-app';
import { patchCutOff, patchHeld, patchRaw, TUS_HEADERS, tusUpload, uploadMetadata } from '../helpers/tus';
import { recordedOffset, uploadIdOf } from '../helpers/upload-state';
import { eventually } from '../helpers/wait';

describe('a resumable upload resumed through another process', () => {
  let first: ListeningServer;
  let second: ListeningServer;
  /** The processes' database, to see what they recorded without a request of our own. */
  let client: MongoClient;

  beforeAll(async () => {
    const environment = { MONGODB_URI: uriOfNewDatabase() };
    client = await MongoClient.connect(environment.MONGODB_URI);
    [first, second] = await Promise.all([startListeningServer(environment), startListeningServer(environment)]);
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
    await client.db().dropDatabase();
    await client.close();
  });

  const offsetAt = async (server: ListeningServer, path: string) =>
    Number((await fetch(`${server.baseUrl}${path}`, { method: 'HEAD', headers: TUS_HEADERS })).headers.get('upload-offset'));

  test('when a PATCH to one process is cut off mid-chunk, then the other tells the stored offset and finishes the upload byte-exact', async () => {
    const bytes = await makeLargePng(3 * 1024 * 1024);
    const created = await fetch(`${first.baseUrl}/image/uploads`, {
      method: 'POST',
      headers: { ...TUS_HEADERS, 'Upload-Length': String(bytes.length), 'Upload-Metadata': uploadMetadata({ filename: 'train.png' }) },
    });
    const path = created.headers.get('location') ?? '';
    const sent = 1300 * 1024 + 7;

    await patchCutOff({ port: Number(new URL(first.baseUrl).port), path, offset: 0, announced: bytes.length }, bytes.subarray(0, sent));
    // Asked by HEAD, the other would stop the PATCH while the last bytes sent are still arriving.
    await eventually(() => recordedOffset(client.db(), path), (recorded) => recorded === sent);
    const offset = await offsetAt(second, path);
    const { imageUrl, imageId } = await tusUpload(second.baseUrl, bytes, { uploadUrl: `${second.baseUrl}${path}`, chunkSize: 1024 * 1024 });
    const stored = Buffer.from(await (await fetch(`${first.baseUrl}${imageUrl ?? ''}`)).arrayBuffer());
    const info = (await (await fetch(`${first.baseUrl}${imageUrl ?? ''}/info`)).json()) as { sha256: string; filename: string };

    expect(offset).toBe(sent);
    expect(imageId).toMatch(/^[0-9a-f]{24}$/);
    expect(sha256(stored)).toBe(sha256(bytes));
    expect(info).toMatchObject({ sha256: sha256(bytes), filename: 'train.png' });
  });

  test('when a PATCH to one process hangs half-open and the client asks the other, then the other stops it there and the upload finishes byte-exact', async () => {
    const bytes = await makeLargePng(1024 * 1024);
    const created = await fetch(`${first.baseUrl}/image/uploads`, {
      method: 'POST',
      headers: { ...TUS_HEADERS, 'Upload-Length': String(bytes.length), 'Upload-Metadata': uploadMetadata({ filename: 'hung.png' }) },
    });
    const path = created.headers.get('location') ?? '';
    const halfOpen = patchHeld(first.baseUrl, path, 0, bytes, 2 * RESUMABLE_CHUNK_SIZE);
    await eventually(() => countChunks(client.db(), 'images', new ObjectId(uploadIdOf(path))), (chunks) => chunks === 2);

    const offset = await offsetAt(second, path);
    const finished = await patchRaw(second.baseUrl, path, offset, bytes.subarray(offset));

    const stopped = await halfOpen.answer;
    expect(offset).toBe(2 * RESUMABLE_CHUNK_SIZE);
    expect(stopped.status).toBe(204);
    expect(stopped.headers.get('upload-offset')).toBe(String(offset));
    expect(finished.status).toBe(204);
    const stored = Buffer.from(await (await fetch(`${first.baseUrl}${finished.headers.get('x-image-url') ?? ''}`)).arrayBuffer());
    expect(sha256(stored)).toBe(sha256(bytes));
  });
});
