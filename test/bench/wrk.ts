import { execFile } from 'node:child_process';
import { killOnExit } from './processes';

const WRK_MISSING = 'wrk is not installed: run `apt-get install wrk` (the benchmark drives every server with it).';

export interface WrkOptions {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  readonly headers?: readonly string[];
  /** A Lua script file, for dynamic requests or bodies. */
  readonly script?: string;
  readonly timeoutSeconds?: number;
}

export interface LatencyPercentiles {
  readonly p50: number;
  readonly p75: number;
  readonly p90: number;
  readonly p99: number;
}

export interface SocketErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly timeout: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Response bytes read, headers included. */
  readonly transferBytesPerSecond: number;
  /** Milliseconds. */
  readonly latencyMs: LatencyPercentiles;
  readonly non2xxOr3xx: number;
  readonly socketErrors: SocketErrors;
  readonly output: string;
}

export class WrkMissingError extends Error {
  override readonly name = 'WrkMissingError';
}

function run(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('wrk', args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (!error) resolve(stdout);
      else if (error.code === 'ENOENT') reject(new WrkMissingError(WRK_MISSING));
      else reject(new Error(`wrk ${args.join(' ')} failed: ${stderr.trim() || error.message}`, { cause: error }));
    });
    killOnExit(child);
  });
}

export async function assertWrkInstalled(): Promise<void> {
  try {
    await run(['--version'], 10_000);
  } catch (error) {
    // Debian's wrk prints its usage and exits with 1 even for --version; only a missing binary matters.
    if (error instanceof WrkMissingError) throw error;
  }
}

function wrkArguments(options: WrkOptions): string[] {
  const args = ['-t1', `-c${options.connections}`, `-d${options.seconds}s`, '--latency'];
  if (options.timeoutSeconds !== undefined) args.push('--timeout', `${options.timeoutSeconds}s`);
  for (const header of options.headers ?? []) args.push('-H', header);
  if (options.script !== undefined) args.push('-s', options.script);
  args.push(options.url);
  return args;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const slackSeconds = 60 + (options.timeoutSeconds ?? 0);
  return parseWrkOutput(await run(wrkArguments(options), (options.seconds + slackSeconds) * 1000));
}

const TIME_UNITS_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BYTE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function scaled(value: string, unit: string, units: Readonly<Record<string, number>>, text: string): number {
  const factor = units[unit];
  if (factor === undefined) throw new Error(`wrk printed an unknown unit "${unit}" in: ${text}`);
  return Number(value) * factor;
}

function match(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const found = pattern.exec(output);
  if (!found) throw new Error(`wrk's output has no ${what}:\n${output}`);
  return found;
}

function percentile(output: string, percent: number): number {
  const [text, value = '', unit = ''] = match(output, new RegExp(`^\\s+${percent}%\\s+([\\d.]+)(\\w+)\\s*$`, 'm'), `${percent}% line`);
  return scaled(value, unit, TIME_UNITS_MS, text);
}

function socketErrors(output: string): SocketErrors {
  const found = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const [connect, read, write, timeout] = (found?.slice(1) ?? ['0', '0', '0', '0']).map(Number);
  return { connect: connect ?? 0, read: read ?? 0, write: write ?? 0, timeout: timeout ?? 0 };
}

export function parseWrkOutput(output: string): WrkResult {
  const [, requests = ''] = match(output, /(\d+) requests in /, 'request count');
  const [, perSecond = ''] = match(output, /Requests\/sec:\s+([\d.]+)/, 'Requests/sec');
  const [transferText, transfer = '', unit = ''] = match(output, /Transfer\/sec:\s+([\d.]+)(\w+)/, 'Transfer/sec');
  return {
    requests: Number(requests),
    requestsPerSecond: Number(perSecond),
    transferBytesPerSecond: scaled(transfer, unit, BYTE_UNITS, transferText),
    latencyMs: { p50: percentile(output, 50), p75: percentile(output, 75), p90: percentile(output, 90), p99: percentile(output, 99) },
    non2xxOr3xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0),
    socketErrors: socketErrors(output),
    output,
  };
}

export function errorCount(result: WrkResult): number {
  const { connect, read, write, timeout } = result.socketErrors;
  return result.non2xxOr3xx + connect + read + write + timeout;
}
