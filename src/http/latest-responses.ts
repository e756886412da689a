import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** The response a connection answered last, or is answering; undefined before its first request. */
export type LatestResponse = (socket: Duplex) => ServerResponse | undefined;

const trackers = new WeakMap<Server, LatestResponse>();

/**
 * One listener per server, shared by whoever asks (the shutdown drain, the client-error
 * answer), and none on the responses themselves: a listener per response costs a 304 about a
 * twentieth of its time.
 */
export function latestResponses(server: Server): LatestResponse {
  const known = trackers.get(server);
  if (known) return known;
  const responses = new WeakMap<Duplex, ServerResponse>();
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => responses.set(req.socket, res));
  const latest: LatestResponse = (socket) => responses.get(socket);
  trackers.set(server, latest);
  return latest;
}
