import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServerScriptName, ServerScripts } from './compile-servers';
import { NODE_MODULES } from './compile-servers';
import type { BenchDatabase } from './database';
import type { BenchImage } from './images';
import type { Load } from './measure';
import type { ServerLaunch } from './processes';
import { GET_CONNECTIONS, GET_TIMEOUT_SECONDS, MAX_FILE_SIZE, WARMUP_SECONDS, type Settings } from './settings';
import type { Workspace } from './workspace';

export interface BenchContext {
  readonly settings: Settings;
  readonly database: BenchDatabase;
  readonly workspace: Workspace;
  readonly scripts: ServerScripts;
  /** The 10 KiB, 100 KiB and 1 MiB images every read scenario serves. */
  readonly images: readonly BenchImage[];
}

/** Our default bucket: the gridfs-limit server reads the same files from it. */
export const IMAGES_BUCKET = 'images';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const SERVER_JS = path.join(PROJECT_ROOT, 'dist', 'server.js');

/** The options `npm start` gives node, so that the bench runs the server exactly as it is started. */
function startOptions(): string[] {
  const { scripts } = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  return scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

/** Our built server, as `npm start` runs it, on the bench database. */
export function ourServer(context: BenchContext, name: string, env: Readonly<Record<string, string>> = {}): ServerLaunch {
  return {
    name,
    script: SERVER_JS,
    nodeOptions: startOptions(),
    env: {
      MONGODB_URI: context.database.uri,
      LOG_LEVEL: 'warn',
      // The bench is one client uploading thousands of images; the limit is for the internet.
      UPLOAD_RATE_LIMIT: '0',
      MAX_FILE_SIZE: String(MAX_FILE_SIZE),
      BUCKET_NAME: IMAGES_BUCKET,
      ...env,
    },
  };
}

/** One of the minimal servers in servers/, compiled to plain JavaScript. */
export function benchServer(
  context: BenchContext,
  name: ServerScriptName,
  env: Readonly<Record<string, string>> = {},
): ServerLaunch {
  return {
    name,
    script: context.scripts[name],
    env: { NODE_PATH: NODE_MODULES, MONGODB_URI: context.database.uri, ...env },
  };
}

export function getLoad(context: BenchContext, scenario: string, urlPath: string, headers?: readonly string[]): Load {
  return {
    scenario,
    path: urlPath,
    connections: GET_CONNECTIONS,
    seconds: context.settings.seconds,
    timeoutSeconds: GET_TIMEOUT_SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    ...(headers && { headers }),
  };
}

/** Which read image the 304 scenario revalidates: the 100 KiB one. */
export const REVALIDATED_INDEX = 1;

export function imageAt(context: BenchContext, index: number): BenchImage {
  const image = context.images[index];
  if (!image) throw new Error(`no read image ${index}`);
  return image;
}
