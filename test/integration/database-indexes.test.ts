import type { Document } from 'mongodb';
import { makeLargePng } from '../helpers/images';
import { onlyUploadedImage, upload } from '../helpers/http';
import request from 'supertest';
import { ensureIndexes } from '../../src/storage/open-database';
import { startTestApp, type TestApp } from '../helpers/test-app';
import { ObjectId } from 'mongodb';

let api: TestApp;

beforeAll(async () => {
  api = await startTestApp();
});

afterAll(async () => {
  await api.close();
});

/**
 * What the plan says of the index, on either server: FerretDB (our patched SQLite backend)
 * answers SQLite's plan lines and whether the filter was pushed down; MongoDB its winning plan.
 */
function planOf(explained: Document): { pushedDown: boolean; plan: string } {
  if ('filterPushdown' in explained) {
    const lines = (explained.queryPlanner as { Plan: string[] }).Plan;
    return { pushedDown: explained.filterPushdown === true, plan: lines.join('\n') };
  }
  return { pushedDown: true, plan: JSON.stringify(explained.queryPlanner) };
}

function usesIndexOnly(plan: string, index: string): boolean {
  if (plan.includes('"winningPlan"')) return plan.includes('"IXSCAN"') && plan.includes(`"indexName":"${index}"`);
  return plan.includes(`_${index} (`) && !/\bSCAN\b/.test(plan);
}

describe('the database serves the app queries from indexes', () => {
  test('when an image is read, then its chunk query is answered through the files_id and n index', async () => {
    const uploaded = await upload(api.app, [{ bytes: await makeLargePng(600_000), filename: 'big.png', contentType: 'image/png' }]);
    expect(uploaded.status).toBe(201);
    const id = new ObjectId(onlyUploadedImage(uploaded).id);

    const explained = await api.db
      .collection(`${api.config.bucketName}.chunks`)
      .find({ files_id: id, n: { $gte: 0, $lte: 1 } }, { projection: { _id: 0, n: 1, data: 1 } })
      .sort({ n: 1 })
      .explain();

    const { pushedDown, plan } = planOf(explained);
    expect(pushedDown).toBe(true);
    expect(usesIndexOnly(plan, 'files_id_1_n_1')).toBe(true);
  });

  test('when an image is looked up by id, then the files query is answered through the _id index', async () => {
    const explained = await api.db.collection(`${api.config.bucketName}.files`).find({ _id: new ObjectId() }).explain();

    const { pushedDown, plan } = planOf(explained);
    expect(pushedDown).toBe(true);
    expect(usesIndexOnly(plan, '_id_')).toBe(true);
  });

  test("when a key lists its images, then the owner-first index serves it on MongoDB, and our FerretDB filters the owner in memory, as docs/api.md says", async () => {
    const files = api.db.collection(`${api.config.bucketName}.files`);
    const ownerFirst = 'metadata.owner_1_uploadDate_-1__id_-1';

    const indexes = (await files.indexes()).map((index) => index.name);
    const explained = await files.find({ 'metadata.owner': 'alice' }).sort({ uploadDate: -1, _id: -1 }).limit(21).explain();

    expect(indexes).toEqual(expect.arrayContaining(['uploadDate_-1__id_-1', ownerFirst]));
    const { pushedDown, plan } = planOf(explained);
    if ('filterPushdown' in explained) expect(pushedDown).toBe(false);
    else expect(usesIndexOnly(plan, ownerFirst)).toBe(true);
  });

  test('when the indexes are ensured again, as each start of an instance does, then the database keeps answering', async () => {
    await ensureIndexes(api.db, api.config.bucketName);
    await ensureIndexes(api.db, api.config.bucketName);

    expect((await request(api.app).get('/image')).status).toBe(200);
  });
});
