import { describe, expect, it } from 'vitest';
import { matchPath, matchRoute } from '../../router';
import { routes, signedInNav } from '../../routes';

describe('monitoring routes', () => {
  it('maps a job’s perf page and the quota page, and marks their navigation items current', () => {
    expect(matchRoute(routes, '/jobs/12/perf')?.route.path).toBe('/jobs/:id/perf');
    expect(matchRoute(routes, '/jobs/12/perf')?.params).toEqual({ id: '12' });
    // Not a number: the perf page's own check answers "no such job".
    expect(matchRoute(routes, '/jobs/abc/perf')?.params).toEqual({ id: 'abc' });
    expect(matchRoute(routes, '/jobs/12/perf/more')).toBeNull();
    expect(matchRoute(routes, '/quota')?.route.path).toBe('/quota');
    const active = (label: string, path: string) =>
      signedInNav.find((item) => item.label === label)!.activeFor.some((pattern) => matchPath(pattern, path) !== null);
    expect(active('Jobs', '/jobs/12/perf')).toBe(true);
    expect(active('Quota', '/quota')).toBe(true);
  });
});
