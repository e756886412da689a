import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { settledWithin } from '../core/deadline';
import { latestResponses } from './latest-responses';

export interface DrainOutcome {
  /** Requests still unanswered when the time ran out; their connections were cut. */
  readonly cutOff: number;
}

export interface ConnectionDrain {
  /**
   * Stops accepting connections and lets the requests in flight finish, each answer closing
   * its connection; after `timeoutMs` the rest are cut. Resolves once every connection is gone.
   */
  drain(timeoutMs: number): Promise<DrainOutcome>;
}

/** Tells the client not to send another request on this connection: it will not be read. */
function closeAfterAnswer(res: ServerResponse): void {
  if (!res.headersSent) res.setHeader('Connection', 'close');
}

/** Must be called before the server accepts its first connection, so that every request is seen. */
export function watchConnectionsForDrain(server: Server): ConnectionDrain {
  const connections = new Set<Socket>();
  const latestResponse = latestResponses(server);
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  function unanswered(): ServerResponse[] {
    return [...connections]
      .map(latestResponse)
      .filter((res): res is ServerResponse => res !== undefined && !res.writableFinished);
  }

  async function drain(timeoutMs: number): Promise<DrainOutcome> {
    // Ahead of the app's own listener, which may answer at once: requests that still arrive close their connection.
    server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => closeAfterAnswer(res));
    unanswered().forEach(closeAfterAnswer);
    // Since Node 19, close() also ends the keep-alive connections that sit idle.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const outOfTime = !(await settledWithin(closed, timeoutMs));
    const cutOff = outOfTime ? unanswered().length : 0;
    if (outOfTime) server.closeAllConnections();
    await closed;
    return { cutOff };
  }

  return { drain };
}
