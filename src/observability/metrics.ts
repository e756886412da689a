import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type UploadOutcome = 'stored' | 'rejected' | 'aborted' | 'failed';
const CACHED_PARTS = ['record', 'body'] as const;
const LOOKUP_RESULTS = ['hit', 'miss'] as const;
export type CachedPart = (typeof CACHED_PARTS)[number];
type LookupResult = (typeof LOOKUP_RESULTS)[number];
/**
 * `duplicate`: another request stored the same variant first, and this copy was dropped;
 * `abandoned`: every request waiting for it had gone before it started, and it never ran.
 */
export type TransformationOutcome = 'stored' | 'duplicate' | 'failed' | 'abandoned';

export interface TransformationQueue {
  readonly running: number;
  readonly waiting: number;
}

export interface RequestObservation {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly seconds: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** What the service tells Prometheus; one registry per app, so that tests never share counts. */
export interface Metrics {
  readonly registry: Registry;
  /** The Prometheus text `/metrics` answers: this process's, or the whole cluster's. */
  render(): Promise<string>;
  observeRequest(observation: RequestObservation): void;
  /** `reason` is the problem code of a refused or failed upload, empty when stored or aborted. */
  countUpload(outcome: UploadOutcome, reason: string): void;
  countCacheLookup(part: CachedPart, hit: boolean): void;
  countTransformation(format: string, outcome: TransformationOutcome): void;
  /** Where transformations running and waiting are read when scraped; the counts of every queue watched are added. */
  watchTransformations(queue: TransformationQueue): void;
  observeDatabaseCommand(command: string, succeeded: boolean, seconds: number): void;
}

/** From a cache hit (well under a millisecond) to a cold read of a large image (seconds). */
const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COMMAND_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function addTo(counts: Map<string, number>, route: string, amount: number): void {
  if (amount > 0) counts.set(route, (counts.get(route) ?? 0) + amount);
}

function flushByRoute(counter: Counter<'route'>, counts: Map<string, number>): void {
  for (const [route, amount] of counts) counter.inc({ route }, amount);
  counts.clear();
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requestSeconds = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to its answer being sent or cut off',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: REQUEST_SECONDS_BUCKETS,
    registers,
  });
  // Counted in plain numbers and handed to prom-client when scraped: its inc() costs a 304 several percent.
  const pendingBytesReceived = new Map<string, number>();
  const pendingBytesSent = new Map<string, number>();
  new Counter({
    name: 'http_received_bytes_total',
    help: 'Request body bytes received from clients',
    labelNames: ['route'] as const,
    registers,
    collect() {
      flushByRoute(this, pendingBytesReceived);
    },
  });
  new Counter({
    name: 'http_sent_bytes_total',
    help: 'Bytes written to clients, headers included',
    labelNames: ['route'] as const,
    registers,
    collect() {
      flushByRoute(this, pendingBytesSent);
    },
  });
  const uploads = new Counter({
    name: 'image_uploads_total',
    help: 'Upload requests by outcome; reason is the problem code of a refused or failed one',
    labelNames: ['outcome', 'reason'] as const,
    registers,
  });
  const pendingLookups: Record<CachedPart, Record<LookupResult, number>> = {
    record: { hit: 0, miss: 0 },
    body: { hit: 0, miss: 0 },
  };
  new Counter({
    name: 'image_cache_lookups_total',
    help: 'Lookups in the in-memory image cache, by part and result',
    labelNames: ['part', 'result'] as const,
    registers,
    collect() {
      for (const part of CACHED_PARTS) {
        for (const result of LOOKUP_RESULTS) {
          this.inc({ part, result }, pendingLookups[part][result]);
          pendingLookups[part][result] = 0;
        }
      }
    },
  });
  const transformations = new Counter({
    name: 'image_transformations_total',
    help: 'Variants made from originals, by output format and outcome',
    labelNames: ['format', 'outcome'] as const,
    registers,
  });
  const transformationQueues: TransformationQueue[] = [];
  const sumOf = (state: keyof TransformationQueue) => transformationQueues.reduce((sum, queue) => sum + queue[state], 0);
  new Gauge({
    name: 'image_transformations_in_progress',
    help: 'Transformations running or waiting for a turn now, by state',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.set({ state: 'running' }, sumOf('running'));
      this.set({ state: 'waiting' }, sumOf('waiting'));
    },
  });
  const commandSeconds = new Histogram({
    name: 'mongodb_command_duration_seconds',
    help: 'Database commands as the driver timed them',
    labelNames: ['command', 'outcome'] as const,
    buckets: COMMAND_SECONDS_BUCKETS,
    registers,
  });

  return {
    registry,
    render: () => registry.metrics(),
    observeRequest: ({ method, route, status, seconds, bytesReceived: received, bytesSent: sent }) => {
      requestSeconds.observe({ method, route, status: String(status) }, seconds);
      addTo(pendingBytesReceived, route, received);
      addTo(pendingBytesSent, route, sent);
    },
    countUpload: (outcome, reason) => uploads.inc({ outcome, reason }),
    countCacheLookup: (part, hit) => {
      pendingLookups[part][hit ? 'hit' : 'miss'] += 1;
    },
    countTransformation: (format, outcome) => transformations.inc({ format, outcome }),
    watchTransformations: (queue) => {
      transformationQueues.push(queue);
    },
    observeDatabaseCommand: (command, succeeded, seconds) =>
      commandSeconds.observe({ command, outcome: succeeded ? 'succeeded' : 'failed' }, seconds),
  };
}
