import { describe, expect, it } from 'vitest';
import { matchPath, matchRoute } from '../../router';
import { routes, signedInNav } from '../../routes';

describe('notebook routes', () => {
  it('maps /notebook and marks its navigation item, which carries the state indicator', () => {
    expect(matchRoute(routes, '/notebook')?.route.path).toBe('/notebook');
    const item = signedInNav.find((i) => i.label === 'Notebook')!;
    expect(item.href).toBe('/notebook');
    expect(item.activeFor.some((pattern) => matchPath(pattern, '/notebook') !== null)).toBe(true);
    expect(item.indicator).toBeDefined();
  });
});
