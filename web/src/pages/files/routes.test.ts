import { describe, expect, it } from 'vitest';
import { matchPath, matchRoute } from '../../router';
import { routes, signedInNav } from '../../routes';

describe('file routes', () => {
  it('maps the spaces’ URLs, with the rest of the path as the folder', () => {
    expect(matchRoute(routes, '/datasets')?.params).toEqual({ '*': '' });
    expect(matchRoute(routes, '/datasets/mnist/a%20b')?.params).toEqual({ '*': 'mnist/a b' });
    expect(matchRoute(routes, '/models/resnet')?.params).toEqual({ '*': 'resnet' });
    expect(matchRoute(routes, '/files/public/models/acme/resnet/1.0')?.params).toEqual({ '*': 'public/models/acme/resnet/1.0' });
    expect(matchRoute(routes, '/s/tok_1')?.params).toEqual({ token: 'tok_1', '*': '' });
    expect(matchRoute(routes, '/s/tok_1/images/x')?.params).toEqual({ token: 'tok_1', '*': 'images/x' });
    expect(matchRoute(routes, '/public')).not.toBeNull();
    expect(matchRoute(routes, '/shared')).not.toBeNull();
  });

  it('puts the file pages in the navigation', () => {
    expect(signedInNav.map((item) => item.label)).toEqual(['Jobs', 'Board', 'Notebook', 'Serving', 'Quota', 'Datasets', 'Models', 'Public', 'Shared with me', 'Settings', 'Status']);
    const active = (label: string, path: string) =>
      signedInNav.find((item) => item.label === label)!.activeFor.some((pattern) => matchPath(pattern, path) !== null);
    expect(active('Datasets', '/datasets/mnist')).toBe(true);
    expect(active('Public', '/files/public/models/a')).toBe(true);
    expect(active('Shared with me', '/files/shared/acme/datasets/x')).toBe(true);
    expect(active('Models', '/datasets')).toBe(false);
  });
});
