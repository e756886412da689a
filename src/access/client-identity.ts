import type { IncomingMessage } from 'node:http';
import { ipKeyGenerator } from 'express-rate-limit';
import type { ApiKeys } from './api-keys';

/** Who sent a request, as shares of a resource are counted: `key:<id>` or `ip:<address>`. */
export type ClientIdentifier = (req: IncomingMessage) => string;

function forwardedFor(req: IncomingMessage): string[] {
  const header = req.headers['x-forwarded-for'];
  if (header === undefined) return [];
  // Repeated headers count as one list, in the order they came.
  return [header]
    .flat()
    .join(',')
    .split(',')
    .map((address) => address.trim())
    .filter((address) => address !== '');
}

/**
 * The client's address as Express's `req.ip` gives it with `trust proxy` set to a number of
 * hops: the peer's address, unless it is one of `trustProxy` proxies, each of which appended
 * the address it got the request from to X-Forwarded-For. The lean read path has no `req.ip`.
 */
function clientAddress(req: IncomingMessage, trustProxy: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (trustProxy === 0) return peer;
  const nearestFirst = [peer, ...forwardedFor(req).reverse()];
  return nearestFirst[Math.min(trustProxy, nearestFirst.length - 1)] ?? peer;
}

/**
 * A client with a valid API key is known by its key, wherever it connects from; any other by its
 * address (behind TRUST_PROXY proxies, the one they report), an IPv6 address by its /56, as
 * one client may hold all of it. A wrong key counts as none, so that inventing keys gains nothing.
 */
export function createClientIdentifier(apiKeys: ApiKeys, trustProxy: number): ClientIdentifier {
  return (req) => {
    const verdict = apiKeys.verify(req.headers.authorization);
    return verdict.outcome === 'valid' ? `key:${verdict.clientId}` : `ip:${ipKeyGenerator(clientAddress(req, trustProxy))}`;
  };
}
