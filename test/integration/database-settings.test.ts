import { connectDatabase } from '../../src/database/connect';

function sharedUri(): string {
  return process.env.MONGODB_URI ?? '';
}

describe('the database connection', () => {
  test('when nothing is set, then writes wait for a majority and reads go to the primary', async () => {
    const { connection, db } = await connectDatabase(sharedUri(), {
      mongodbTimeoutMs: 2000,
      writeConcern: 'majority',
      readPreference: 'primary',
    });
    try {
      expect(db.writeConcern?.w).toBe('majority');
      expect(db.readPreference.mode).toBe('primary');
    } finally {
      await connection.close();
    }
  });

  test('when WRITE_CONCERN and READ_PREFERENCE are set, then every operation of the connection uses them', async () => {
    const { connection, db } = await connectDatabase(sharedUri(), {
      mongodbTimeoutMs: 2000,
      writeConcern: 1,
      readPreference: 'secondaryPreferred',
    });
    try {
      expect(db.writeConcern?.w).toBe(1);
      expect(db.readPreference.mode).toBe('secondaryPreferred');
      await db.collection('settings-check').insertOne({ written: true });
      expect(await db.collection('settings-check').countDocuments()).toBe(1);
    } finally {
      await db.dropCollection('settings-check').catch(() => undefined);
      await connection.close();
    }
  });
});
