import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(__dirname, '..');
const source = path.join(root, 'web');
/** Where the server looks for it (src/page/page-router.ts). */
const output = path.join(root, 'dist', 'public');

/**
 * The web page: web/src bundled with Uppy into one script, its CSS with Uppy's into one sheet,
 * and index.html. Files are overwritten, never removed first, so that a server (or another test
 * run) serving this folder meanwhile never finds it empty.
 */
export async function buildPage(): Promise<void> {
  await mkdir(output, { recursive: true });
  await build({
    entryPoints: { page: path.join(source, 'src', 'main.ts'), 'page-style': path.join(source, 'page.css') },
    outdir: path.join(output, 'assets'),
    bundle: true,
    minify: true,
    sourcemap: true,
    format: 'iife',
    target: ['es2022'],
    legalComments: 'linked',
    logLevel: 'warning',
  });
  await copyFile(path.join(source, 'index.html'), path.join(output, 'index.html'));
}

if (require.main === module) {
  buildPage().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
