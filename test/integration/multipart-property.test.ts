import fc from 'fast-check';
import type { Response } from 'supertest';
import { download, uploadedImages } from '../helpers/http';
import { makeImage, sha256 } from '../helpers/images';
import { multipartBody, postMultipart, type MultipartPart } from '../helpers/multipart';
import { startTestApp, type TestApp } from '../helpers/test-app';

type GeneratedPart =
  | { readonly kind: 'image'; readonly image: number; readonly filename: string }
  | { readonly kind: 'file'; readonly field: string; readonly filename: string; readonly body: Uint8Array }
  | { readonly kind: 'text'; readonly field: string; readonly value: string };

type Damage =
  | { readonly kind: 'none' }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'other-boundary' };

const generatedPart: fc.Arbitrary<GeneratedPart> = fc.oneof(
  fc.record({ kind: fc.constant('image' as const), image: fc.nat({ max: 2 }), filename: fc.string({ maxLength: 40 }) }),
  fc.record({
    kind: fc.constant('file' as const),
    field: fc.constantFrom('images', 'other', ''),
    filename: fc.string({ maxLength: 40 }),
    body: fc.uint8Array({ maxLength: 3000 }),
  }),
  fc.record({ kind: fc.constant('text' as const), field: fc.string({ maxLength: 20 }), value: fc.string({ maxLength: 200 }) }),
);

const damage: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.constant({ kind: 'other-boundary' as const }),
);

function damaged(body: Buffer, applied: Damage): Buffer {
  switch (applied.kind) {
    case 'truncate':
      return body.subarray(0, applied.at % (body.length + 1));
    case 'insert': {
      const at = applied.at % (body.length + 1);
      return Buffer.concat([body.subarray(0, at), applied.bytes, body.subarray(at)]);
    }
    default:
      return body;
  }
}

describe('any multipart body', () => {
  let api: TestApp;
  let images: Buffer[];
  const accepted = new Set<string>();

  beforeAll(async () => {
    api = await startTestApp({ config: { maxFiles: 4 } });
    images = await Promise.all([makeImage('png', 6, 6), makeImage('jpeg', 9, 5), makeImage('gif', 3, 3)]);
  });

  afterAll(async () => {
    await api.close();
  });

  function toPart(part: GeneratedPart): MultipartPart {
    switch (part.kind) {
      case 'image':
        return { name: 'images', filename: part.filename, contentType: 'image/png', body: images[part.image] ?? Buffer.alloc(0) };
      case 'file':
        return { name: part.field, filename: part.filename, contentType: 'application/octet-stream', body: Buffer.from(part.body) };
      case 'text':
        return { name: part.field, body: Buffer.from(part.value) };
    }
  }

  function expectWellFormedAnswer(response: Response): void {
    if (response.status === 201) {
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      return;
    }
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  }

  /** The bucket holds the accepted files, each with all its chunks, and nothing else. */
  async function expectBucketHoldsExactlyAccepted(): Promise<void> {
    const files = await api.db
      .collection<{ length: number; chunkSize: number }>('images.files')
      .find({}, { projection: { length: 1, chunkSize: 1 } })
      .toArray();
    const chunkCounts = await api.db
      .collection('images.chunks')
      .aggregate<{ _id: unknown; count: number }>([{ $group: { _id: '$files_id', count: { $sum: 1 } } }])
      .toArray();
    expect(files.map((file) => file._id.toHexString()).sort()).toEqual([...accepted].sort());
    const expectedChunks = files.map((file) => ({ id: file._id.toHexString(), count: Math.ceil(file.length / file.chunkSize) }));
    const actualChunks = chunkCounts.map((entry) => ({ id: String(entry._id), count: entry.count }));
    expect(actualChunks.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      expectedChunks.filter((entry) => entry.count > 0).sort((a, b) => a.id.localeCompare(b.id)),
    );
  }

  async function expectReadableAsStored(response: Response): Promise<void> {
    for (const image of uploadedImages(response)) {
      accepted.add(image.id);
      const downloaded = await download(api.app, image.url);
      expect(downloaded.status).toBe(200);
      expect(downloaded.bytes.length).toBe(image.size);
      expect(downloaded.headers.etag).toBe(`"${sha256(downloaded.bytes)}"`);
    }
  }

  test('when a generated body is uploaded, then the answer is 201 or a 4xx problem and the bucket holds exactly what was accepted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(generatedPart, { maxLength: 6 }),
        damage,
        fc.constantFrom('b0undary', 'x'.repeat(70), '----WebKitFormBoundary7MA4YWxkTrZu0gW'),
        async (parts, applied, boundary) => {
          const body = damaged(multipartBody(boundary, parts.map(toPart)), applied);
          const headerBoundary = applied.kind === 'other-boundary' ? `${boundary}-other` : boundary;

          const response = await postMultipart(api.app, headerBoundary, body);

          expectWellFormedAnswer(response);
          await expectReadableAsStored(response);
          await expectBucketHoldsExactlyAccepted();
        },
      ),
      { numRuns: 150 },
    );
  });
});
