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

/**
 * A wrk script that DELETEs each of `paths` once, whatever the connections, and ends the run
 * at the last answer, so that wrk reports over the time the deletes really took.
 *
 * wrk calls `delay` before every request, a connection's first included: a connection that
 * finds every path taken waits past the end of the run instead of sending. wrk itself sleeps
 * for its whole -d; SIGINT (its Ctrl-C) wakes it to report. Sent to the process, the signal
 * left wrk asleep to -d in about one run in fifteen here, another thread having taken it;
 * tgkill, through LuaJIT's ffi, sends it to the main thread. One thread (-t1): one count.
 */
export async function writeDeleteEachOnceScript(
  scriptFile: string,
  pathsFile: string,
  paths: readonly string[],
): Promise<string> {
  await writeFile(pathsFile, `${paths.join('\n')}\n`);
  await writeFile(
    scriptFile,
    [
      'local ffi = require("ffi")',
      'ffi.cdef("int getpid(void); int tgkill(int tgid, int tid, int sig);")',
      'local SIGINT = 2',
      'local paths = {}',
      `for line in io.lines(${luaString(pathsFile)}) do paths[#paths + 1] = line end`,
      'local claimed, sent, answered = 0, 0, 0',
      'delay = function()',
      '  if claimed == #paths then return 24 * 3600 * 1000 end',
      '  claimed = claimed + 1',
      '  return 0',
      'end',
      'request = function()',
      // wrk calls it once before the run, to check what it returns: that call must not use up a path.
      '  if claimed == 0 then return wrk.format("DELETE", paths[1]) end',
      '  sent = sent + 1',
      '  return wrk.format("DELETE", paths[sent])',
      'end',
      'response = function()',
      '  answered = answered + 1',
      '  if answered == #paths then',
      '    wrk.thread:stop()',
      '    local pid = ffi.C.getpid()',
      '    ffi.C.tgkill(pid, pid, SIGINT)',
      '  end',
      'end',
      '',
    ].join('\n'),
  );
  return scriptFile;
}
