import { loadConfig } from '../../src/config/config';
import { createOpenApiDocument } from '../../src/openapi/openapi-document';
import { createRouteLabeller } from '../../src/openapi/route-of';

const routeOf = createRouteLabeller(Object.keys(createOpenApiDocument(loadConfig({})).paths));

describe('route labels', () => {
  test('when the web page or one of its files is asked, then it counts as /', () => {
    expect(routeOf('/')).toBe('/');
    expect(routeOf('/assets/page.js?v=2')).toBe('/');
    expect(routeOf('/client-settings')).toBe('/client-settings');
  });

  test('when a path matches no route, then it is unmatched, not a label of its own', () => {
    expect(routeOf('/assets')).toBe('unmatched');
    expect(routeOf('/made-up/path')).toBe('unmatched');
  });
});
