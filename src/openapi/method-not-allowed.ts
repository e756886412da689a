import type { RequestHandler } from 'express';
import { AppError } from '../core/app-error';
import { createRouteMatcher } from './route-of';

/** The document's paths, each with its operations by lower-case method. */
export type DocumentedPaths = Readonly<Record<string, object>>;

/** The order `Allow` lists methods in. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** What each documented route serves, as `Allow` says it: Express answers HEAD wherever it answers GET. */
function allowedMethodsByRoute(paths: DocumentedPaths): ReadonlyMap<string, readonly string[]> {
  return new Map(
    Object.entries(paths).map(([route, item]) => {
      const documented = new Set(Object.keys(item).map((method) => method.toUpperCase()));
      if (documented.has('GET')) documented.add('HEAD');
      return [route, METHODS.filter((method) => documented.has(method))];
    }),
  );
}

/**
 * After every router: a request that none answered, on a path that is a documented route, asked
 * a method the route does not serve (RFC 9110, 15.5.6): 405 with `Allow`. Any other path stays
 * `route-not-found`, and OPTIONS is left to the preflight routes and Express, as it always was.
 */
export function methodNotAllowed(paths: DocumentedPaths): RequestHandler {
  const routeOf = createRouteMatcher(Object.keys(paths));
  const allowedByRoute = allowedMethodsByRoute(paths);
  return (req, _res, next) => {
    const route = routeOf(req.path);
    const allowed = route === undefined ? undefined : allowedByRoute.get(route);
    if (req.method === 'OPTIONS' || route === undefined || allowed === undefined || allowed.includes(req.method)) {
      next();
      return;
    }
    const allow = allowed.join(', ');
    throw new AppError('method-not-allowed', `${req.method} is not served at ${route}; it takes ${allow}.`, {
      headers: { Allow: allow },
    });
  };
}
