/**
 * The most sharp does here: a variant made from an original already in memory, with the very
 * calls our transformer makes, and answered. GET /<name>?w=&format=&q= transforms <name>.jpg
 * from IMAGE_DIR; nothing is stored or looked up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { portFromEnv, requiredEnv } from './environment';

type Format = 'webp' | 'avif';

function loadOriginals(dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((file) => [`/${path.parse(file).name}`, readFileSync(path.join(dir, file))]));
}

const originals = loadOriginals(requiredEnv('IMAGE_DIR'));

function transform(original: Buffer, width: number, format: Format, quality: number): Promise<Buffer> {
  // A copy: libvips caches operations by their arguments, and the same buffer each time could be answered from there.
  return sharp(Buffer.from(original), { limitInputPixels: 50_000_000, animated: false, pages: 1 })
    .rotate()
    .toColourspace('srgb')
    .resize({ width, fit: 'inside', withoutEnlargement: true })
    .toFormat(format, { quality })
    .toBuffer();
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const original = originals.get(url.pathname);
  const format = url.searchParams.get('format');
  if (!original || (format !== 'webp' && format !== 'avif')) {
    res.writeHead(404).end();
    return;
  }
  transform(original, Number(url.searchParams.get('w')), format, Number(url.searchParams.get('q'))).then(
    (variant) => res.writeHead(200, { 'Content-Type': `image/${format}`, 'Content-Length': variant.length }).end(variant),
    (error: unknown) => res.writeHead(500).end(String(error)),
  );
}).listen(portFromEnv(), '127.0.0.1');
