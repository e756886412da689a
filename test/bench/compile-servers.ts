import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';

const SERVERS_DIR = path.join(__dirname, 'servers');
export const NODE_MODULES = path.resolve(__dirname, '..', '..', 'node_modules');

export type ServerScriptName = 'memory-limit' | 'gridfs-limit' | 'tutorial-peer' | 'pipe-upload-limit' | 'sharp-limit';
export type ServerScripts = Readonly<Record<ServerScriptName, string>>;

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2023,
  esModuleInterop: true,
};

/**
 * Plain JavaScript for the baseline servers: run through ts-node they would each carry the
 * TypeScript compiler, some 55 MiB, into the peak memory the report compares.
 */
export async function compileServers(outDir: string): Promise<ServerScripts> {
  await mkdir(outDir, { recursive: true });
  const sources = (await readdir(SERVERS_DIR)).filter((file) => file.endsWith('.ts'));
  for (const source of sources) {
    const text = await readFile(path.join(SERVERS_DIR, source), 'utf8');
    const { outputText } = ts.transpileModule(text, { compilerOptions: COMPILER_OPTIONS, fileName: source });
    await writeFile(path.join(outDir, source.replace(/\.ts$/, '.js')), outputText);
  }
  const script = (name: ServerScriptName) => path.join(outDir, `${name}.js`);
  return {
    'memory-limit': script('memory-limit'),
    'gridfs-limit': script('gridfs-limit'),
    'tutorial-peer': script('tutorial-peer'),
    'pipe-upload-limit': script('pipe-upload-limit'),
    'sharp-limit': script('sharp-limit'),
  };
}
