/**
 * The most the database path gives: the driver's own GridFS stream piped to the response,
 * with the type and length from the files document and nothing else.
 */
import { createServer } from 'node:http';
import { GridFSBucket, MongoClient, ObjectId, type GridFSFile } from 'mongodb';
import { portFromEnv, requiredEnv } from './environment';

const IMAGE_PATH = /^\/image\/([0-9a-f]{24})$/;

function contentTypeOf(file: GridFSFile): string {
  const metadata = file.metadata as { contentType?: string } | undefined;
  return metadata?.contentType ?? 'application/octet-stream';
}

async function main(): Promise<void> {
  const client = await MongoClient.connect(requiredEnv('MONGODB_URI'));
  const bucket = new GridFSBucket(client.db(), { bucketName: requiredEnv('BUCKET_NAME') });

  createServer((req, res) => {
    const id = IMAGE_PATH.exec(req.url ?? '')?.[1];
    if (id === undefined) {
      res.writeHead(404).end();
      return;
    }
    const download = bucket.openDownloadStream(new ObjectId(id));
    download.once('file', (file: GridFSFile) => {
      res.setHeader('Content-Type', contentTypeOf(file));
      res.setHeader('Content-Length', file.length);
    });
    download.once('error', () => {
      if (!res.headersSent) res.statusCode = 404;
      res.end();
    });
    download.pipe(res);
  }).listen(portFromEnv(), '127.0.0.1');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
