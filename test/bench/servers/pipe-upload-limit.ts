/** The most the database takes: the raw request body piped straight into a GridFS upload stream. */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { GridFSBucket, MongoClient } from 'mongodb';
import { portFromEnv, requiredEnv } from './environment';

async function main(): Promise<void> {
  const client = await MongoClient.connect(requiredEnv('MONGODB_URI'));
  const bucket = new GridFSBucket(client.db(), { bucketName: requiredEnv('BUCKET_NAME') });

  createServer((req, res) => {
    const upload = bucket.openUploadStream('upload.png', { metadata: { contentType: req.headers['content-type'] } });
    pipeline(req, upload).then(
      () => {
        res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({ id: upload.id.toHexString() }));
      },
      () => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      },
    );
  }).listen(portFromEnv(), '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
