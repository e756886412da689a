/**
 * What a format's rules decide about the bytes at the front of the stream:
 * - `wait`: too few bytes to decide; ask again once at least `bytes` are there (a header's size).
 * - `keep`, `drop`: pass or remove the next `bytes` bytes, as they arrive.
 * - `blank`: the next `bytes` bytes become zeros, so that sizes written earlier stay true.
 * - `replace`: gather the next `bytes` bytes (at most `MAX_REPLACED_BYTES`) and put out what
 *   `by` makes of them.
 */
export type Decision =
  | { readonly kind: 'wait'; readonly bytes: number }
  | { readonly kind: 'keep' | 'drop' | 'blank'; readonly bytes: number }
  | { readonly kind: 'replace'; readonly bytes: number; readonly by: (segment: Buffer) => Buffer };

/** Reads the front of the stream; called again each time the previous decision has been carried out. */
export interface FormatRules {
  decide(front: Buffer): Decision;
}

/** A JPEG segment is at most 65,537 bytes with its marker; other formats' metadata is gathered up to this too. */
export const MAX_REPLACED_BYTES = 64 * 1024 + 2;

/** Takes a file in pieces and gives back its bytes with metadata removed, holding at most one segment. */
export interface MetadataFilter {
  push(piece: Buffer): Buffer[];
  /** What is still held once the file has ended: a header cut short is kept as it is. */
  end(): Buffer[];
}

export const keepEverything: MetadataFilter = { push: (piece) => [piece], end: () => [] };

interface Run {
  readonly decision: Exclude<Decision, { kind: 'wait' }>;
  remaining: number;
  readonly gathered: Buffer[];
}

function carryOut(run: Run, piece: Buffer, out: Buffer[]): void {
  switch (run.decision.kind) {
    case 'keep':
      out.push(piece);
      break;
    case 'blank':
      out.push(Buffer.alloc(piece.length));
      break;
    case 'replace':
      run.gathered.push(piece);
      break;
    case 'drop':
      break;
  }
}

/** Runs a format's rules over a stream of pieces. */
export function createSegmentFilter(rules: FormatRules): MetadataFilter {
  let held = Buffer.alloc(0);
  let waitingFor = 0;
  let run: Run | undefined;

  /** Carries out the current run over the front of `data`; returns what is left of it. */
  function continueRun(current: Run, data: Buffer, out: Buffer[]): Buffer {
    const length = Math.min(current.remaining, data.length);
    carryOut(current, data.subarray(0, length), out);
    current.remaining -= length;
    if (current.remaining === 0) {
      if (current.decision.kind === 'replace') out.push(current.decision.by(Buffer.concat(current.gathered)));
      run = undefined;
    }
    return data.subarray(length);
  }

  function startRun(data: Buffer): Buffer | undefined {
    const decision = rules.decide(data);
    if (decision.kind === 'wait') {
      if (decision.bytes <= data.length) throw new Error(`rules waited for ${decision.bytes} bytes but had ${data.length}`);
      held = Buffer.from(data);
      waitingFor = decision.bytes;
      return undefined;
    }
    if (decision.kind === 'replace' && decision.bytes > MAX_REPLACED_BYTES) {
      throw new Error(`rules asked to gather ${decision.bytes} bytes, more than ${MAX_REPLACED_BYTES}`);
    }
    run = { decision, remaining: decision.bytes, gathered: [] };
    return data;
  }

  function push(piece: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (held.length + piece.length < waitingFor) {
      held = Buffer.concat([held, piece]);
      return out;
    }
    let data: Buffer | undefined = held.length > 0 ? Buffer.concat([held, piece]) : piece;
    held = Buffer.alloc(0);
    waitingFor = 0;
    while (data !== undefined && data.length > 0) {
      data = run ? continueRun(run, data, out) : startRun(data);
    }
    return out;
  }

  function end(): Buffer[] {
    const rest = held;
    held = Buffer.alloc(0);
    // A segment being gathered when the file ended is metadata cut short: it goes.
    return rest.length > 0 ? [rest] : [];
  }

  return { push, end };
}
