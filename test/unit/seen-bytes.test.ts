import { createHash } from 'node:crypto';
import { createSeenBytes } from '../../src/uploads/resumable/seen-bytes';
import { makeImage } from '../helpers/images';

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const bytesOf = (length: number) => Buffer.from(Array.from({ length }, (_, index) => index % 251));
const KEPT = { max: 10, ttlMs: 60_000 };

describe('seen bytes', () => {
  test('when an upload comes in PATCHes in order, then the hash is carried from one to the next and is the SHA-256 of all its bytes', () => {
    const upload = bytesOf(100);
    const seen = createSeenBytes(KEPT);
    const shape = { length: 100, chunkSize: 64 };

    const first = seen.resume('a', 0, shape);
    first?.saw(upload.subarray(0, 30));
    if (first) seen.keep('a', first);
    const second = seen.resume('a', 30, shape);
    second?.saw(upload.subarray(30));

    expect(second?.offset()).toBe(100);
    expect(second?.digest()).toBe(sha256Of(upload));
  });

  test('when a PATCH starts where no PATCH seen here ended, then nothing is carried, and what was kept is dropped', () => {
    const seen = createSeenBytes(KEPT);
    const shape = { length: 100, chunkSize: 64 };
    const first = seen.resume('a', 0, shape);
    first?.saw(bytesOf(30));
    if (first) seen.keep('a', first);

    const elsewhere = seen.resume('a', 50, shape);
    const back = seen.resume('a', 30, shape);

    expect(elsewhere).toBeUndefined();
    expect(back).toBeUndefined();
  });

  test('when a PATCH takes up what was kept, then it is taken out: another PATCH at the same offset carries nothing', () => {
    const seen = createSeenBytes(KEPT);
    const shape = { length: 100, chunkSize: 64 };
    const first = seen.resume('a', 0, shape);
    first?.saw(bytesOf(30));
    if (first) seen.keep('a', first);

    seen.resume('a', 30, shape);

    expect(seen.resume('a', 30, shape)).toBeUndefined();
  });

  test('when more uploads are kept than the bound, then the one kept longest ago is forgotten', () => {
    const seen = createSeenBytes({ max: 2, ttlMs: 60_000 });
    const shape = { length: 100, chunkSize: 64 };
    for (const id of ['a', 'b', 'c']) {
      const witness = seen.resume(id, 0, shape);
      witness?.saw(bytesOf(10));
      if (witness) seen.keep(id, witness);
    }

    expect(seen.resume('a', 10, shape)).toBeUndefined();
    expect(seen.resume('c', 10, shape)).toBeDefined();
  });

  test('when the first chunk is stored in part, then it is not judged; once whole, it is, and the verdict is carried on', async () => {
    const png = await makeImage('png', 64, 48);
    const shape = { length: png.length, chunkSize: 512 };
    const seen = createSeenBytes(KEPT);
    const witness = seen.resume('a', 0, shape);

    witness?.stored(0, png.subarray(0, 100));
    const whilePartial = witness?.head();
    witness?.saw(png.subarray(0, 512));
    witness?.stored(0, png.subarray(0, 512));
    witness?.stored(1, png.subarray(512, 1024));
    if (witness) seen.keep('a', witness);

    expect(whilePartial).toBeUndefined();
    expect(seen.resume('a', 512, shape)?.head()).toMatchObject({ kind: 'image', type: 'png', width: 64, height: 48 });
  });

  test('when the whole upload is shorter than a chunk, then its only chunk is judged as the complete file', async () => {
    const png = await makeImage('png', 8, 8);
    const seen = createSeenBytes(KEPT);
    const witness = seen.resume('a', 0, { length: png.length, chunkSize: 256 * 1024 });

    witness?.stored(0, png);

    expect(witness?.head()).toMatchObject({ kind: 'image', type: 'png', width: 8, height: 8 });
  });
});
