import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type UploadOutcome = 'stored' | 'rejected' | 'aborted' | 'failed';
export type CachedPart = 'record' | 'body';
/** `duplicate`: another request stored the same variant first, and this copy was dropped. */
export type TransformationOutcome = 'stored' | 'duplicate' | 'failed';

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
  observeDatabaseCommand(command: string, succeeded: boolean, seconds: number): void;
}

/** From a cache hit (well under a millisecond) to a cold read of a large image (seconds). */
const REQUEST_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const COMMAND_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

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
  const bytesReceived = new Counter({
    name: 'http_received_bytes_total',
    help: 'Request body bytes received from clients',
    labelNames: ['route'] as const,
    registers,
  });
  const bytesSent = new Counter({
    name: 'http_sent_bytes_total',
    help: 'Bytes written to clients, headers included',
    labelNames: ['route'] as const,
    registers,
  });
  const uploads = new Counter({
    name: 'image_uploads_total',
    help: 'Upload requests by outcome; reason is the problem code of a refused or failed one',
    labelNames: ['outcome', 'reason'] as const,
    registers,
  });
  const cacheLookups = new Counter({
    name: 'image_cache_lookups_total',
    help: 'Lookups in the in-memory image cache, by part and result',
    labelNames: ['part', 'result'] as const,
    registers,
  });
  // Bound once: every read looks up the cache two or three times, and labelling a count by an object hashes it each time.
  const lookupCounters = {
    record: { hit: cacheLookups.labels('record', 'hit'), miss: cacheLookups.labels('record', 'miss') },
    body: { hit: cacheLookups.labels('body', 'hit'), miss: cacheLookups.labels('body', 'miss') },
  };
  const transformations = new Counter({
    name: 'image_transformations_total',
    help: 'Variants made from originals, by output format and outcome',
    labelNames: ['format', 'outcome'] as const,
    registers,
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
      // Most requests (every read) have no body: a count of zero costs a label lookup for nothing.
      if (received > 0) bytesReceived.inc({ route }, received);
      bytesSent.inc({ route }, sent);
    },
    countUpload: (outcome, reason) => uploads.inc({ outcome, reason }),
    countCacheLookup: (part, hit) => lookupCounters[part][hit ? 'hit' : 'miss'].inc(),
    countTransformation: (format, outcome) => transformations.inc({ format, outcome }),
    observeDatabaseCommand: (command, succeeded, seconds) =>
      commandSeconds.observe({ command, outcome: succeeded ? 'succeeded' : 'failed' }, seconds),
  };
}
