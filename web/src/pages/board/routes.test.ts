import { describe, expect, it } from 'vitest';
import { matchPath, matchRoute } from '../../router';
import { routes, signedInNav } from '../../routes';

describe('board routes', () => {
  it('maps a job’s board and /board, and marks their navigation items current', () => {
    expect(matchRoute(routes, '/jobs/12/board')?.route.path).toBe('/jobs/:id/board');
    expect(matchRoute(routes, '/jobs/12/board')?.params).toEqual({ id: '12' });
    expect(matchRoute(routes, '/board')?.route.path).toBe('/board');
    const active = (label: string, path: string) =>
      signedInNav.find((item) => item.label === label)!.activeFor.some((pattern) => matchPath(pattern, path) !== null);
    expect(active('Jobs', '/jobs/12/board')).toBe(true);
    expect(active('Board', '/board')).toBe(true);
    expect(active('Board', '/jobs/12/board')).toBe(false);
  });
});
