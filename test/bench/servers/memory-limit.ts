/**
 * The most Node can do here: the same bodies answered from memory with no lookup at all.
 * GET /image/<name> serves <name>.png from IMAGE_DIR.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { portFromEnv, requiredEnv } from './environment';

const ETAG = '"memory-limit"';

function loadBodies(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((file) => [`/image/${path.parse(file).name}`, readFileSync(path.join(dir, file))]));
}

const bodies = loadBodies(requiredEnv('IMAGE_DIR'));

createServer((req, res) => {
  const body = bodies.get(req.url ?? '');
  if (!body) {
    res.writeHead(404).end();
  } else if (req.headers['if-none-match'] === ETAG) {
    res.writeHead(304, { ETag: ETAG }).end();
  } else {
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': body.length, ETag: ETAG }).end(body);
  }
}).listen(portFromEnv(), '127.0.0.1');
