import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { onlyUploadedImage, upload } from '../helpers/http';
import { makeImage } from '../helpers/images';
import { useListeningTestApp } from '../helpers/server';

const PROJECT = path.resolve(__dirname, '../..');
const SCHEMATHESIS = path.join(PROJECT, 'tools/schemathesis');
/** Fixed, so that a failure comes back on every run until it is fixed; the report names it. */
const SEED = '20261203';
/** Cases per operation and phase: some 1,400 requests in all, under 30 s on a loaded 2-core machine. */
const MAX_EXAMPLES = '40';
const RUN_TIMEOUT_MS = 170_000;

/** Where tools/schemathesis/install.sh (npm install, or npm run setup:schemathesis) put it. */
function schemathesisCommand(): string {
  const digest = createHash('sha256')
    .update(readFileSync(path.join(SCHEMATHESIS, 'requirements.txt')))
    .digest('hex')
    .slice(0, 12);
  const environment = path.resolve(PROJECT, process.env.TOOLS_DIR ?? '.tools', `schemathesis-${digest}`);
  if (!existsSync(path.join(environment, 'installed'))) {
    throw new Error(
      `Schemathesis is not installed in ${environment}: run \`npm run setup:schemathesis\` (it needs python3 with venv, ` +
        'and PyPI or a mirror pip can reach; `npm install` runs it too when python3 is there).',
    );
  }
  return path.join(environment, 'bin', 'st');
}

interface Run {
  readonly code: number | null;
  readonly output: string;
}

function run(command: string, args: readonly string[], environment: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT, env: { PATH: process.env.PATH ?? '', ...environment } });
    let output = '';
    child.stdout.on('data', (part: Buffer) => (output += part.toString()));
    child.stderr.on('data', (part: Buffer) => (output += part.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('the API against its own OpenAPI document, with Schemathesis', () => {
  const running = useListeningTestApp({ config: { signingKey: 'schemathesis-signing-key-0123456789abcdef' } });

  /** An image and an unfinished resumable upload, for the operations that need an existing one. */
  async function seed(): Promise<{ imageId: string; uploadId: string }> {
    const { app } = running.api;
    const image = onlyUploadedImage(await upload(app, [{ bytes: await makeImage('png', 64, 48), filename: 'seed.png' }]));
    const created = await request(app).post('/image/uploads').set('Tus-Resumable', '1.0.0').set('Upload-Length', '1000');
    return { imageId: image.id, uploadId: String(created.headers.location).split('/').pop() ?? '' };
  }

  test(
    'when every check runs on every operation, stateful phase included, then none fails',
    async () => {
      const st = schemathesisCommand();
      const { imageId, uploadId } = await seed();
      const scratch = await mkdtemp(path.join(tmpdir(), 'schemathesis-'));
      try {
        const { code, output } = await run(
          st,
          [
            '--config-file', path.join(SCHEMATHESIS, 'schemathesis.toml'),
            'run', `http://127.0.0.1:${running.server.port}/openapi.json`,
            '--checks', 'all',
            '--phases', 'examples,coverage,fuzzing,stateful',
            '--seed', SEED,
            '--max-examples', MAX_EXAMPLES,
            '--workers', '2',
            '--no-shrink',
            '--request-timeout', '30',
          ],
          {
            SCHEMATHESIS_IMAGE_ID: imageId,
            SCHEMATHESIS_UPLOAD_ID: uploadId,
            // Hypothesis keeps its own files here, and Python no bytecode, rather than in the project.
            HYPOTHESIS_STORAGE_DIRECTORY: scratch,
            PYTHONDONTWRITEBYTECODE: '1',
          },
        );

        if (code !== 0) throw new Error(`Schemathesis exited with ${String(code)}:\n${output}`);
        expect(output).toMatch(/Test cases:\s+\d+ generated, \d+ passed/);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
    RUN_TIMEOUT_MS,
  );
});
