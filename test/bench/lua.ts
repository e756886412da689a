import { writeFile } from 'node:fs/promises';

/** A Lua string literal; the paths we quote are our own temporary files. */
function luaString(text: string): string {
  if (!/^[\w/.:; =+-]*$/.test(text)) throw new Error(`refusing to quote ${text} into a Lua script`);
  return `"${text}"`;
}

/** A wrk script that POSTs the bytes of `bodyFile` on every request. */
export async function writeUploadScript(scriptFile: string, bodyFile: string, contentType: string): Promise<string> {
  await writeFile(
    scriptFile,
    [
      `local file = assert(io.open(${luaString(bodyFile)}, "rb"))`,
      'wrk.method = "POST"',
      'wrk.body = file:read("*a")',
      'file:close()',
      `wrk.headers["Content-Type"] = ${luaString(contentType)}`,
      '',
    ].join('\n'),
  );
  return scriptFile;
}

/** A wrk script that GETs a path picked at random, per request, from the lines of `pathsFile`. */
export async function writeRandomPathScript(scriptFile: string, pathsFile: string, paths: readonly string[]): Promise<string> {
  await writeFile(pathsFile, `${paths.join('\n')}\n`);
  await writeFile(
    scriptFile,
    [
      'local paths = {}',
      `for line in io.lines(${luaString(pathsFile)}) do paths[#paths + 1] = line end`,
      'math.randomseed(os.time())',
      'request = function()',
      '  return wrk.format("GET", paths[math.random(#paths)])',
      'end',
      '',
    ].join('\n'),
  );
  return scriptFile;
}
