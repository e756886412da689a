import { createServer, STATUS_CODES, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { AppError } from '../core/app-error';
import { NOSNIFF, problemBody } from './problem-responder';
import { latestResponses } from './latest-responses';

export interface HttpServerSettings {
  readonly headersTimeoutSeconds: number;
  readonly requestTimeoutSeconds: number;
}

/** What Node reports through 'clientError', as our catalogue names it. */
function toClientProblem(error: NodeJS.ErrnoException): AppError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError('request-timeout', 'The request did not arrive in time; the connection is closed.');
    case 'HPE_HEADER_OVERFLOW':
      return new AppError('headers-too-large', 'The request headers are larger than the server accepts.');
    default:
      return new AppError('malformed-request', 'The request is not valid HTTP.');
  }
}

/**
 * There is no response object for these errors, so the answer is written straight to the
 * socket, and only when nothing of another answer has gone out on it yet.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, latest: ServerResponse | undefined): void {
  if (!socket.writable || (latest !== undefined && latest.headersSent && !latest.writableFinished)) {
    socket.destroy();
    return;
  }
  const problem = toClientProblem(error);
  const body = problemBody(problem, undefined);
  const head =
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
    'Content-Type: application/problem+json; charset=utf-8\r\n' +
    `${NOSNIFF.name}: ${NOSNIFF.value}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n';
  socket.end(head + body, () => socket.destroy());
}

/**
 * The HTTP server with our limits on slow clients, for the API and for the tests alike.
 * Node checks these timeouts only every `connectionsCheckingInterval` (30 s by default),
 * which alone would let a client hold a socket far past them; a quarter of the shorter one
 * keeps the overrun small.
 */
export function createHttpServer(listener: RequestListener, settings: HttpServerSettings): Server {
  const headersTimeout = settings.headersTimeoutSeconds * 1000;
  const requestTimeout = settings.requestTimeoutSeconds * 1000;
  const server = createServer(
    { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(headersTimeout, requestTimeout) / 4 },
    listener,
  );
  const latestResponse = latestResponses(server);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    answerClientError(error, socket, latestResponse(socket));
  });
  return server;
}
