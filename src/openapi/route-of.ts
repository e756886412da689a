import { PAGE_ASSETS_PATH } from '../page/page-router';

interface RouteTemplate {
  readonly route: string;
  readonly pattern: RegExp;
}

/** `/image/{id}/info` matches `/image/<anything but a slash>/info`. */
function toTemplate(route: string): RouteTemplate {
  const source = route
    .split(/\{[^}]+\}/)
    .map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return { route, pattern: new RegExp(`^${source}/?$`) };
}

/**
 * The documented route (of `routes`, the document's paths in its order) whose template a path
 * without its query matches: the first, so that `/image/upload` is itself and not an
 * `/image/{id}`; undefined for any other.
 */
export function createRouteMatcher(routes: readonly string[]): (path: string) => string | undefined {
  const templates = routes.map(toTemplate);
  return (path) => templates.find(({ pattern }) => pattern.test(path))?.route;
}

/**
 * The documented route a path belongs to, for logs and metric labels: a bounded set, whatever
 * paths clients make up. Swagger UI's files count as `/docs`, the web page's as `/`.
 */
export function createRouteLabeller(routes: readonly string[]): (url: string) => string {
  const routeOf = createRouteMatcher(routes);
  return (url) => {
    const path = url.split(/[?#]/, 1)[0] ?? '';
    if (path.startsWith('/docs/')) return '/docs';
    if (path.startsWith(`${PAGE_ASSETS_PATH}/`)) return '/';
    return routeOf(path) ?? 'unmatched';
  };
}
