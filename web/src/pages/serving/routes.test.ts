import { describe, expect, it } from 'vitest';
import { isServerPath, matchPath, matchRoute } from '../../router';
import { routes, signedInNav } from '../../routes';

describe('serving routes', () => {
  it('maps /serving and /serving/<name> to the app, and leaves the gateway to the server', () => {
    expect(matchRoute(routes, '/serving')?.route.path).toBe('/serving');
    expect(matchRoute(routes, '/serving/fit')).toMatchObject({ route: { path: '/serving/:name' }, params: { name: 'fit' } });
    // /serving/<account>/<name>/... is the inference gateway: no page, and links there go to the server.
    expect(matchRoute(routes, '/serving/acme/fit')).toBeNull();
    expect(isServerPath('/serving/acme/fit/v2/models/fit')).toBe(true);
    const item = signedInNav.find((i) => i.label === 'Serving')!;
    expect(item.href).toBe('/serving');
    for (const path of ['/serving', '/serving/fit']) expect(item.activeFor.some((pattern) => matchPath(pattern, path) !== null)).toBe(true);
  });
});
