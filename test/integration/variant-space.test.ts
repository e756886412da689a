import type { CommandStartedEvent } from 'mongodb';
import sharp from 'sharp';
import request from 'supertest';
import { signUrl } from '../../src/delivery/read-url-signature';
import { expectMatchesContract } from '../helpers/contract';
import { download, onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { expectProblem } from '../helpers/problem';
import { startTestApp, type TestApp } from '../helpers/test-app';

const SIGNING_KEY = 'variant-space-signing-key-0123456789abcdef';
const SIZES = [64, 128, 256, 640];
const hero = { width: 256, height: 128, fit: 'cover', enlarge: true, format: 'webp', quality: 30 } as const;

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp({ config: { signingKey: SIGNING_KEY, variantSizes: SIZES, presets: { hero } } });
});

afterAll(async () => {
  await api.close();
});

async function uploadedId(app: TestApp, width = 400, height = 300): Promise<string> {
  const bytes = await makeImage('jpeg', width, height);
  return onlyUploadedImage(await upload(app.app, [{ bytes, filename: 'space.jpg' }]).expect(201)).id;
}

const signed = (id: string, query: string) => signUrl(SIGNING_KEY, `/image/${id}`, query);

async function paramsOf(app: TestApp, id: string): Promise<string[]> {
  return (await app.variantsOf(id)).map((variant) => variant.params);
}

describe('what an unsigned URL may ask', () => {
  test.each([
    ['q', 'w=64&q=50'],
    ['q', 'format=webp&q=80'],
    ['enlarge', 'w=640&enlarge=true'],
    ['enlarge', 'w=64&enlarge=false'],
  ])('when an unsigned URL asks %s (%s), then it answers 400 invalid-transformation naming it on both read paths, and nothing is made', async (parameter, query) => {
    const id = await uploadedId(api);

    for (const app of [api.app, api.expressApp]) {
      const response = await request(app).get(`/image/${id}?${query}`);

      expectProblem(response, 400, 'invalid-transformation');
      expect((response.body as { detail: string }).detail).toMatch(new RegExp(`^${parameter} needs a signed URL`));
      expectMatchesContract('GET', '/image/{id}', response);
    }
    expect(await api.variantsOf(id)).toEqual([]);
  });

  test('when a signed URL asks q and enlarge, then the variant is made with them', async () => {
    const id = await uploadedId(api);

    const enlarged = await download(api.app, signed(id, 'w=640&enlarge=true'));
    const lowQuality = await download(api.app, signed(id, 'w=64&format=webp&q=30'));

    expect(enlarged.status).toBe(200);
    expect(await sharp(enlarged.bytes).metadata()).toMatchObject({ width: 640, height: 480 });
    expect(lowQuality.status).toBe(200);
    expect(await paramsOf(api, id)).toEqual(['w=640&enlarge=true&format=jpeg&q=80', 'w=64&format=webp&q=30']);
  });

  test('when a preset sets q and enlarge, then an unsigned URL naming it is served', async () => {
    const id = await uploadedId(api, 200, 100);

    const read = await download(api.app, `/image/${id}?preset=hero`);

    expect(read.status).toBe(200);
    expect(await sharp(read.bytes).metadata()).toMatchObject({ format: 'webp', width: 256, height: 128 });
    expect(await paramsOf(api, id)).toEqual(['w=256&h=128&fit=cover&enlarge=true&format=webp&q=30']);
  });
});

describe('asks that make the same bytes', () => {
  test('when enlarge is asked where it cannot enlarge, then the answer is the variant without it, stored once', async () => {
    const id = await uploadedId(api);

    const plain = await download(api.app, `/image/${id}?w=128`);
    const enlarged = await download(api.app, signed(id, 'w=128&enlarge=true'));

    expect(enlarged.status).toBe(200);
    expect(enlarged.headers.etag).toBe(plain.headers.etag);
    expect(enlarged.bytes.equals(plain.bytes)).toBe(true);
    expect(await paramsOf(api, id)).toEqual(['w=128&format=jpeg&q=80']);
  });

  test('when sizes the image already fits are asked, then they are one variant, the original re-encoded at its size', async () => {
    const id = await uploadedId(api, 200, 150);
    const queries = ['w=256', 'w=640', 'h=256', 'w=640&h=640&fit=cover', 'w=640&fit=contain', 'format=original'];

    const reads = await Promise.all(queries.map((query) => download(api.app, `/image/${id}?${query}`)));

    expect(new Set(reads.map((read) => `${read.status} ${String(read.headers.etag)}`)).size).toBe(1);
    expect(await sharp(reads[0]?.bytes).metadata()).toMatchObject({ width: 200, height: 150 });
    expect(await paramsOf(api, id)).toEqual(['format=jpeg&q=80']);
  });

  test('when a box the image fits is asked with fit=contain, then it is still letterboxed to the box', async () => {
    const id = await uploadedId(api, 200, 150);

    const read = await download(api.app, `/image/${id}?w=256&h=256&fit=contain`);

    expect(await sharp(read.bytes).metadata()).toMatchObject({ width: 256, height: 256 });
  });
});

describe('MAX_VARIANTS_PER_IMAGE', () => {
  const MAX = 3;
  const queries = ['w=64', 'w=128', 'w=256', 'w=64&format=webp', 'w=128&format=webp'];
  let capped: TestApp;

  beforeAll(async () => {
    capped = await startTestApp({ config: { variantSizes: SIZES, maxVariantsPerImage: MAX } });
  });

  afterAll(async () => {
    await capped.close();
  });

  test('when more variants than it are made of one image, then those made longest ago go, bytes and all, and one asked again is made anew', async () => {
    const id = await uploadedId(capped);
    const other = await uploadedId(capped);
    await download(capped.app, `/image/${other}?w=64`);

    for (const query of queries) expect((await download(capped.app, `/image/${id}?${query}`)).status).toBe(200);

    expect(await paramsOf(capped, id)).toEqual(['w=256&format=jpeg&q=80', 'w=64&format=webp&q=80', 'w=128&format=webp&q=80']);
    expect(await paramsOf(capped, other)).toEqual(['w=64&format=jpeg&q=80']);
    expect(await capped.storedVariants()).toEqual({ files: MAX + 1, chunks: MAX + 1, claimed: MAX + 1 });
    const again = await download(capped.app, `/image/${id}?w=64`);
    expect(again.status).toBe(200);
    expect(await sharp(again.bytes).metadata()).toMatchObject({ width: 64 });
    expect(await paramsOf(capped, id)).toEqual(['w=64&format=webp&q=80', 'w=128&format=webp&q=80', 'w=64&format=jpeg&q=80']);
  });

  test('when another instance removes a variant this one knows (MAX_VARIANTS_PER_IMAGE), then reading it again makes it anew instead of a 404', async () => {
    // Bodies are never kept here, so the second read goes to the database for bytes that are gone.
    const second = await startTestApp({ config: { ...capped.config, cacheMaxItemBytes: 1 }, databaseName: capped.db.databaseName });
    try {
      const id = await uploadedId(capped);
      expect((await download(second.app, `/image/${id}?w=64`)).status).toBe(200);
      for (const query of queries.slice(1, 1 + MAX)) expect((await download(capped.app, `/image/${id}?${query}`)).status).toBe(200);
      expect(await paramsOf(capped, id)).not.toContain('w=64&format=jpeg&q=80');

      const again = await download(second.app, `/image/${id}?w=64`);

      expect(again.status).toBe(200);
      expect(await sharp(again.bytes).metadata()).toMatchObject({ width: 64, format: 'jpeg' });
      expect(await paramsOf(capped, id)).toContain('w=64&format=jpeg&q=80');
    } finally {
      await second.disconnect();
    }
  });

  test('when two instances make variants of one image at once, then no more than it are kept, and nothing of the others is left', async () => {
    const second = await startTestApp({ config: capped.config, databaseName: capped.db.databaseName });
    try {
      const id = await uploadedId(capped);
      const before = await capped.storedVariants();
      const many = [...queries, 'w=256&format=webp', 'w=64&format=png', 'w=128&format=png'];

      const reads = await Promise.all(many.map((query, index) => download((index % 2 === 0 ? capped : second).app, `/image/${id}?${query}`)));

      expect(reads.map((read) => read.status)).toEqual(many.map(() => 200));
      const kept = (await capped.variantsOf(id)).length;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(MAX);
      const after = await capped.storedVariants();
      expect(after).toEqual({ files: before.files + kept, chunks: before.chunks + kept, claimed: before.claimed + kept });
    } finally {
      await second.disconnect();
    }
  });
});

describe('GET /image/:id/info', () => {
  test('when an image has more variants than a page, then /info pages them with limit and cursor, each once, oldest first', async () => {
    const id = await uploadedId(api);
    for (const query of ['w=64', 'w=128', 'w=256', 'w=64&format=png', 'w=128&format=png']) {
      expect((await download(api.app, `/image/${id}?${query}`)).status).toBe(200);
    }

    const pages: { variants: { params: string }[]; next: string | null }[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const response = await request(api.app).get(`/image/${id}/info?limit=2${cursor === '' ? '' : `&cursor=${cursor}`}`);
      expectMatchesContract('GET', '/image/{id}/info', response);
      const page = response.body as { variants: { params: string }[]; next: string | null };
      pages.push(page);
      cursor = page.next;
    }

    expect(pages.map((page) => page.variants.length)).toEqual([2, 2, 1]);
    expect(pages.flatMap((page) => page.variants.map((variant) => variant.params))).toEqual(await paramsOf(api, id));
  });

  test('when /info is given a limit out of range or a cursor it never handed out, then it answers 400 invalid-query', async () => {
    const id = await uploadedId(api);

    for (const query of ['limit=0', 'limit=101', 'limit=ten', 'cursor=not-a-cursor', `cursor=${Buffer.from('[1,"W=64"]').toString('base64url')}`]) {
      const response = await request(api.app).get(`/image/${id}/info?${query}`);
      expectProblem(response, 400, 'invalid-query');
      expectMatchesContract('GET', '/image/{id}/info', response);
    }
  });
});

describe('deleting an original', () => {
  let deleting: TestApp;

  beforeAll(async () => {
    deleting = await startTestApp({ config: { signingKey: SIGNING_KEY, maxVariantsPerImage: 200 } });
  });

  afterAll(async () => {
    await deleting.close();
  });

  /** An image with a variant of each of `count` widths, made cheaply from a small original. */
  async function withVariants(count: number): Promise<string> {
    const bytes = await makeImage('png', 128, 128);
    const id = onlyUploadedImage(await upload(deleting.app, [{ bytes, filename: 'many.png' }]).expect(201)).id;
    for (let width = 1; width <= count; width++) {
      expect((await request(deleting.app).get(signed(id, `w=${width}`))).status).toBe(200);
    }
    expect(await deleting.variantsOf(id)).toHaveLength(count);
    return id;
  }

  /** The commands sent to the variants' collections while `act` runs. */
  async function variantCommandsDuring(act: () => Promise<unknown>): Promise<string[]> {
    const commands: string[] = [];
    const variants = `${deleting.config.bucketName}.variants`;
    const listener = ({ commandName, command, databaseName }: CommandStartedEvent) => {
      const collection = String(command[commandName]);
      if (databaseName === deleting.db.databaseName && collection.startsWith(variants)) commands.push(`${commandName} ${collection}`);
    };
    deleting.db.client.on('commandStarted', listener);
    try {
      await act();
    } finally {
      deleting.db.client.off('commandStarted', listener);
    }
    return commands;
  }

  test('when an image with many variants is deleted, then they go in as many queries as for two, and nothing of them is left', async () => {
    const few = await withVariants(2);
    // More than the 101 documents of a find's first batch by default.
    const many = await withVariants(110);

    const forFew = await variantCommandsDuring(() => request(deleting.app).delete(`/image/${few}`).expect(204));
    const forMany = await variantCommandsDuring(() => request(deleting.app).delete(`/image/${many}`).expect(204));

    expect(forFew).toEqual(forMany);
    expect(forMany).toEqual(['find images.variants', 'delete images.variants', 'delete images.variants.files', 'delete images.variants.chunks']);
    expect(await deleting.storedVariants()).toEqual({ files: 0, chunks: 0, claimed: 0 });
    expectProblem(await request(deleting.app).get(signed(many, 'w=7')), 404, 'image-not-found');
  });
});
