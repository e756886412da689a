import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from '../observability/metrics';

/** Between a worker that was asked for `/metrics` and the primary, which asks every worker. */
const CLUSTER_METRICS = 'image-api:cluster-metrics';
/** prom-client gives up on a worker after 5 s; the answer comes well before this. */
const ANSWER_TIMEOUT_MS = 7000;

interface MetricsRequest {
  readonly type: typeof CLUSTER_METRICS;
  readonly requestId: number;
}

interface MetricsAnswer extends MetricsRequest {
  readonly text?: string;
  readonly error?: string;
}

function isClusterMetricsMessage(message: unknown): message is MetricsAnswer {
  return (message as { type?: unknown } | null)?.type === CLUSTER_METRICS;
}

/** In the primary: answers each worker's request with the sum of every worker's metrics. */
export function answerClusterMetricsRequests(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isClusterMetricsMessage(message)) return;
    const { requestId } = message;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: CLUSTER_METRICS, requestId, text } satisfies MetricsAnswer),
      (error: unknown) => worker.send({ type: CLUSTER_METRICS, requestId, error: String(error) } satisfies MetricsAnswer),
    );
  });
}

/**
 * In a worker: `/metrics` answers for the whole cluster, whichever worker the request reached,
 * so that one scrape of the port sees every request. This worker's own registry is what it
 * gives the primary's aggregation.
 */
export function metricsOfTheCluster(metrics: Metrics): Metrics {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing an aggregator is what makes prom-client answer the primary's requests in a worker.
  new AggregatorRegistry();
  const waiting = new Map<number, (answer: MetricsAnswer) => void>();
  let nextRequestId = 0;
  process.on('message', (message: unknown) => {
    if (isClusterMetricsMessage(message)) waiting.get(message.requestId)?.(message);
  });

  const render = () =>
    new Promise<string>((resolve, reject) => {
      const requestId = nextRequestId++;
      const timer = setTimeout(() => settle({ type: CLUSTER_METRICS, requestId, error: 'the primary did not answer' }), ANSWER_TIMEOUT_MS);
      function settle(answer: MetricsAnswer) {
        clearTimeout(timer);
        waiting.delete(requestId);
        if (answer.text === undefined) reject(new Error(`cluster metrics: ${answer.error ?? 'no answer'}`));
        else resolve(answer.text);
      }
      waiting.set(requestId, settle);
      process.send?.({ type: CLUSTER_METRICS, requestId } satisfies MetricsRequest);
    });
  return { ...metrics, render };
}
