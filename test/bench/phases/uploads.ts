import { writeFile } from 'node:fs/promises';
import { expectCreated } from '../client';
import { benchServer, ourServer, type BenchContext } from '../context';
import { makeUploadPng } from '../images';
import { writeUploadScript } from '../lua';
import { measure, type Measurement } from '../measure';
import { multipartWithFile, type PreparedBody } from '../multipart';
import { withServer, type ServerLaunch } from '../processes';
import { OURS, UPLOAD_SCENARIO } from '../scenarios';
import { MIB, UPLOAD_CONNECTIONS, UPLOAD_PAYLOAD_BYTES, UPLOAD_TIMEOUT_SECONDS } from '../settings';

/** Each phase stores what it receives until its bucket is dropped; refuse to start on a nearly full disk. */
const MIN_FREE_BYTES = 4 * 1024 * MIB;

interface UploadTarget {
  readonly launch: ServerLaunch;
  readonly bucketName: string;
  readonly path: string;
  readonly body: PreparedBody;
  readonly name: string;
}

async function checkFreeDisk(context: BenchContext): Promise<void> {
  const free = await context.workspace.freeBytes();
  console.error(`  free disk for the database: ${(free / 1024 / MIB).toFixed(1)} GiB`);
  if (free < MIN_FREE_BYTES) throw new Error(`less than ${MIN_FREE_BYTES / 1024 / MIB} GiB free under ${context.workspace.dir}`);
}

/** Checks once that the server takes the body with 201, then has 16 clients send it over and over. */
async function measureUpload(context: BenchContext, target: UploadTarget): Promise<Measurement> {
  await checkFreeDisk(context);
  const bodyFile = context.workspace.file(`${target.name}-body`);
  await writeFile(bodyFile, target.body.body);
  const script = await writeUploadScript(context.workspace.file(`${target.name}-upload.lua`), bodyFile, target.body.contentType);
  try {
    return await withServer(target.launch, async (server) => {
      await expectCreated(`${server.url}${target.path}`, target.body.contentType, target.body.body);
      return measure(context, server, {
        scenario: UPLOAD_SCENARIO,
        path: target.path,
        connections: UPLOAD_CONNECTIONS,
        seconds: context.settings.uploadSeconds,
        script,
        timeoutSeconds: UPLOAD_TIMEOUT_SECONDS,
        measureIngest: true,
      });
    });
  } finally {
    await context.database.dropBucket(target.bucketName);
    await context.database.waitUntilIdle();
  }
}

/** Our multipart upload route on a fresh server, then the raw body piped into GridFS. */
export async function measureUploads(context: BenchContext): Promise<Measurement[]> {
  const png = await makeUploadPng(UPLOAD_PAYLOAD_BYTES);
  const ours = await measureUpload(context, {
    name: 'ours',
    launch: ourServer(context, OURS, { BUCKET_NAME: 'bench_uploads' }),
    bucketName: 'bench_uploads',
    path: '/image/upload',
    body: multipartWithFile('images', 'upload.png', 'image/png', png),
  });
  const limit = await measureUpload(context, {
    name: 'pipe-upload-limit',
    launch: benchServer(context, 'pipe-upload-limit', { BUCKET_NAME: 'bench_pipe_uploads' }),
    bucketName: 'bench_pipe_uploads',
    path: '/upload',
    body: { contentType: 'image/png', body: png },
  });
  return [ours, limit];
}
