import { makeLargePng, sha256 } from '../helpers/images';
import { startListeningServer, type ListeningServer } from '../helpers/server-process';
import { uriOfNewDatabase } from '../helpers/test-app';
import { patchCutOff, TUS_HEADERS, tusUpload, uploadMetadata } from '../helpers/tus';
import { eventually } from '../helpers/wait';

describe('a resumable upload resumed through another process', () => {
  let first: ListeningServer;
  let second: ListeningServer;

  beforeAll(async () => {
    const environment = { MONGODB_URI: uriOfNewDatabase() };
    [first, second] = await Promise.all([startListeningServer(environment), startListeningServer(environment)]);
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
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
    const offset = await eventually(() => offsetAt(second, path), (stored) => stored === sent);
    const { imageUrl, imageId } = await tusUpload(second.baseUrl, bytes, { uploadUrl: `${second.baseUrl}${path}`, chunkSize: 1024 * 1024 });
    const stored = Buffer.from(await (await fetch(`${first.baseUrl}${imageUrl ?? ''}`)).arrayBuffer());
    const info = (await (await fetch(`${first.baseUrl}${imageUrl ?? ''}/info`)).json()) as { sha256: string; filename: string };

    expect(offset).toBe(sent);
    expect(imageId).toMatch(/^[0-9a-f]{24}$/);
    expect(sha256(stored)).toBe(sha256(bytes));
    expect(info).toMatchObject({ sha256: sha256(bytes), filename: 'train.png' });
  });
});
