import { GridFSBucket, ObjectId } from 'mongodb';
import sharp from 'sharp';
import { download } from '../helpers/http';
import { carriesPersonalMetadata, makeImage, makeImageWithPersonalMetadata, sha256, withCommentAndIptc } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';
import { createRawUpload, patchRaw, TUS_HEADERS, tusUpload } from '../helpers/tus';

const KIB = 1024;

interface StoredImageFacts {
  readonly bytes: Buffer;
  readonly etag: string | undefined;
  readonly length: number;
  readonly sha256: unknown;
}

async function pixelsOf(bytes: Buffer): Promise<Buffer> {
  return sharp(bytes).raw().toBuffer();
}

describe('resumable uploads with STRIP_METADATA=true', () => {
  const running = useListeningTestApp({ config: { stripMetadata: true, dedup: true } });
  const baseUrl = () => `http://127.0.0.1:${running.server.port}`;
  const files = () => running.api.db.collection('images.files');
  const chunks = () => running.api.db.collection('images.chunks');
  const uploadStates = () => running.api.db.collection('images.uploads');

  async function storedImage(imageId: string): Promise<StoredImageFacts> {
    const downloaded = await download(running.api.app, `/image/${imageId}`);
    expect(downloaded.status).toBe(200);
    const document = await files().findOne({ _id: new ObjectId(imageId) });
    return {
      bytes: downloaded.bytes,
      etag: downloaded.headers.etag,
      length: Number(document?.length),
      sha256: (document?.metadata as { sha256?: unknown } | undefined)?.sha256,
    };
  }

  /** Every chunk in the bucket belongs to a file document, and those files are exactly `imageIds`. */
  async function expectOnlyTheseImages(imageIds: readonly string[]): Promise<void> {
    const fileIds = (await files().find({}, { projection: { _id: 1 } }).toArray()).map((file) => file._id.toHexString());
    const chunkOwners = (await chunks().distinct('files_id')).map((id: ObjectId) => id.toHexString());
    expect(fileIds.sort()).toEqual([...imageIds].sort());
    expect(chunkOwners.sort()).toEqual([...imageIds].sort());
  }

  const createUpload = (length: number) => createRawUpload(baseUrl(), length, 'phone.jpg');

  const patch = (path: string, offset: number, bytes: Buffer) => patchRaw(baseUrl(), path, offset, bytes);

  beforeEach(async () => {
    await running.api.db.collection('images.files').deleteMany({});
    await running.api.db.collection('images.chunks').deleteMany({});
    await running.api.db.collection('images.digests').deleteMany({});
  });

  test('when a JPEG carrying GPS is sent in several PATCHes, then it is stored without GPS, its pixels identical, its hash that of the stored bytes, and nothing else is left', async () => {
    const original = withCommentAndIptc(await makeImageWithPersonalMetadata('jpeg', 1280, 960));
    expect(carriesPersonalMetadata(original)).toBe(true);
    expect(original.length).toBeGreaterThan(2 * 256 * KIB);

    const { imageId, uploadUrl } = await tusUpload(baseUrl(), original, {
      chunkSize: 200 * KIB,
      metadata: { filename: 'phone.jpg' },
    });

    const stored = await storedImage(imageId ?? '');
    expect(carriesPersonalMetadata(stored.bytes)).toBe(false);
    const metadata = await sharp(stored.bytes).metadata();
    expect(metadata.exif?.length).toBe('Exif\0\0'.length + 26);
    expect(metadata.orientation).toBe(6);
    expect(metadata.xmp).toBeUndefined();
    expect(await pixelsOf(stored.bytes)).toEqual(await pixelsOf(original));
    expect(stored.length).toBe(stored.bytes.length);
    expect(stored.bytes.length).toBeLessThan(original.length);
    expect(stored.sha256).toBe(sha256(stored.bytes));
    expect(stored.etag).toBe(`"${sha256(stored.bytes)}"`);
    const head = await fetch(uploadUrl, { method: 'HEAD', headers: TUS_HEADERS });
    expect(head.headers.get('x-image-id')).toBe(imageId);
    expect(head.headers.get('upload-offset')).toBe(String(original.length));
    await expectOnlyTheseImages([imageId ?? '']);
  });

  test('when the same JPEG is sent twice with DEDUP, then the second answers the first image and leaves no copy or chunk of its own', async () => {
    const original = await makeImageWithPersonalMetadata('jpeg', 640, 480);

    const first = await tusUpload(baseUrl(), original, { chunkSize: 256 * KIB, metadata: { filename: 'a.jpg' } });
    const second = await tusUpload(baseUrl(), original, { chunkSize: 256 * KIB, metadata: { filename: 'b.jpg' } });

    expect(second.imageId).toBe(first.imageId);
    await expectOnlyTheseImages([first.imageId ?? '']);
  });

  test('when a GIF is sent, then it has no metadata rules and becomes an image under the upload id, byte for byte', async () => {
    const gif = await makeImage('gif', 300, 200);

    const { imageId, uploadUrl } = await tusUpload(baseUrl(), gif, { metadata: { filename: 'still.gif' } });

    expect(uploadUrl.endsWith(`/${imageId ?? ''}`)).toBe(true);
    expect((await storedImage(imageId ?? '')).bytes.equals(gif)).toBe(true);
  });

  test('when an earlier finish had completed its copy before it was cut short, then the retry answers that copy and makes no second one', async () => {
    const original = await makeImageWithPersonalMetadata('jpeg', 640, 480);
    const path = await createUpload(original.length);
    const uploadId = new ObjectId(path.split('/').at(-1));
    const lastChunkStart = Math.floor((original.length - 1) / (256 * KIB)) * 256 * KIB;
    expect((await patch(path, 0, original.subarray(0, lastChunkStart))).status).toBe(204);
    const earlierCopy = await storeEarlierCopy(original);
    await uploadStates().updateOne({ _id: uploadId }, { $set: { copyId: earlierCopy } });

    const last = await patch(path, lastChunkStart, original.subarray(lastChunkStart));

    expect(last.status).toBe(204);
    expect(last.headers.get('x-image-id')).toBe(earlierCopy.toHexString());
    await expectOnlyTheseImages([earlierCopy.toHexString()]);
  });

  /** What a finish leaves when it stops right after its copy's file document is written. */
  async function storeEarlierCopy(bytes: Buffer): Promise<ObjectId> {
    const bucket = new GridFSBucket(running.api.db, { bucketName: 'images' });
    const stream = bucket.openUploadStream('phone.jpg', {
      metadata: { contentType: 'image/jpeg', width: 640, height: 480, sha256: sha256(bytes) },
    });
    await new Promise<void>((resolve, reject) => stream.end(bytes, (error?: Error | null) => (error ? reject(error) : resolve())));
    return stream.id;
  }
});
