import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PageProps, Route } from './router';
import { interceptedHref, isServerPath, matchPath, matchRoute, navigate, normalizePath, Router } from './router';

describe('normalizePath', () => {
  it.each([
    ['', '/'],
    ['/', '/'],
    ['/status', '/status'],
    ['/status/', '/status'],
    ['//jobs///42/', '/jobs/42'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });
});

describe('matchPath', () => {
  it('matches literal paths, ignoring a trailing slash', () => {
    expect(matchPath('/', '/')).toEqual({});
    expect(matchPath('/status', '/status')).toEqual({});
    expect(matchPath('/status', '/status/')).toEqual({});
  });

  it('rejects other paths', () => {
    expect(matchPath('/', '/status')).toBeNull();
    expect(matchPath('/status', '/')).toBeNull();
    expect(matchPath('/status', '/statuses')).toBeNull();
    expect(matchPath('/status', '/status/more')).toBeNull();
    expect(matchPath('/jobs/:id', '/jobs')).toBeNull();
  });

  it('captures and decodes parameters', () => {
    expect(matchPath('/jobs/:id', '/jobs/42')).toEqual({ id: '42' });
    expect(matchPath('/jobs/:id/logs/:pod', '/jobs/a%20b/logs/trainer-0')).toEqual({ id: 'a b', pod: 'trainer-0' });
    expect(matchPath('/jobs/:id', '/jobs/%E0%A4%A')).toBeNull();
  });

  it('captures the rest of the path with a final *', () => {
    expect(matchPath('/files/*', '/files/datasets/mnist/train.csv')).toEqual({ '*': 'datasets/mnist/train.csv' });
    expect(matchPath('/files/*', '/files')).toEqual({ '*': '' });
  });
});

describe('matchRoute', () => {
  const A = () => null;
  const B = () => null;
  const routes: Route[] = [
    { path: '/', component: A },
    { path: '/jobs/new', component: A },
    { path: '/jobs/:id', component: B },
  ];

  it('returns the first matching route with its params', () => {
    expect(matchRoute(routes, '/')?.route).toBe(routes[0]);
    expect(matchRoute(routes, '/jobs/new')?.route).toBe(routes[1]);
    expect(matchRoute(routes, '/jobs/7')).toEqual({ route: routes[2], params: { id: '7' } });
  });

  it('returns null for unknown paths', () => {
    expect(matchRoute(routes, '/no/such/page')).toBeNull();
  });
});

describe('isServerPath', () => {
  it('recognises API and probe paths only', () => {
    expect(isServerPath('/api')).toBe(true);
    expect(isServerPath('/api/v1/version')).toBe(true);
    expect(isServerPath('/healthz')).toBe(true);
    expect(isServerPath('/readyz')).toBe(true);
    expect(isServerPath('/apis')).toBe(false);
    expect(isServerPath('/status')).toBe(false);
  });

  it("leaves the inference gateway's paths to the server, the serving pages to the app", () => {
    expect(isServerPath('/serving/acme/fit')).toBe(true);
    expect(isServerPath('/serving/acme/fit/v2/models/fit')).toBe(true);
    expect(isServerPath('/serving')).toBe(false);
    expect(isServerPath('/serving/fit')).toBe(false);
  });
});

describe('Router', () => {
  let container: HTMLElement;

  const Home = () => <p data-testid="page">home</p>;
  const Job = ({ params }: PageProps) => <p data-testid="page">job {params['id']}</p>;
  const Missing = () => <p data-testid="page">missing</p>;
  const routes: Route[] = [
    { path: '/', component: Home },
    { path: '/jobs/:id', component: Job },
  ];

  const page = () => container.querySelector('[data-testid="page"]')?.textContent;

  function click(target: Element, init: MouseEventInit = {}): MouseEvent {
    const event = new MouseEvent('click', { bubbles: true, cancelable: true, button: 0, ...init });
    act(() => {
      target.dispatchEvent(event);
    });
    return event;
  }

  beforeEach(() => {
    window.history.replaceState(null, '', '/');
    container = document.createElement('div');
    document.body.appendChild(container);
    act(() => {
      render(<Router routes={routes} notFound={Missing} />, container);
    });
  });

  afterEach(() => {
    act(() => {
      render(null, container);
    });
    container.remove();
  });

  it('renders the route for the current path and the not-found page otherwise', () => {
    expect(page()).toBe('home');
    act(() => navigate('/jobs/42'));
    expect(page()).toBe('job 42');
    expect(window.location.pathname).toBe('/jobs/42');
    act(() => navigate('/no/such/page'));
    expect(page()).toBe('missing');
  });

  it('intercepts clicks on internal links and pushes history', () => {
    container.insertAdjacentHTML('beforeend', '<a id="l" href="/jobs/7"><span id="inner">job</span></a>');
    const pushState = vi.spyOn(window.history, 'pushState');
    // Clicked on the anchor itself: happy-dom runs an anchor's default action while a click from a
    // child is still bubbling (browsers run it after dispatch). Nested targets are covered below.
    const event = click(container.querySelector('#l')!);
    expect(event.defaultPrevented).toBe(true);
    expect(pushState).toHaveBeenCalledWith(null, '', '/jobs/7');
    expect(window.location.pathname).toBe('/jobs/7');
    expect(page()).toBe('job 7');
  });

  it('follows back and forward', () => {
    act(() => navigate('/jobs/1'));
    act(() => navigate('/jobs/2'));
    act(() => {
      window.history.replaceState(null, '', '/jobs/1');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(page()).toBe('job 1');
  });

  it('leaves modified clicks, new-tab, download, external and server links to the browser', () => {
    container.insertAdjacentHTML(
      'beforeend',
      [
        '<a id="plain" href="/jobs/3">x</a>',
        '<a href="/jobs/4?tab=logs#end"><span id="nested">x</span></a>',
        '<a id="hash" href="#section">x</a>',
        '<a id="blank" href="/jobs/3" target="_blank">x</a>',
        '<a id="dl" href="/jobs/3" download>x</a>',
        '<a id="ext" href="https://example.com/jobs/3">x</a>',
        '<a id="api" href="/api/v1/version">x</a>',
        '<a id="rel" href="/jobs/3" rel="noopener external">x</a>',
        '<a id="nohref">x</a>',
      ].join(''),
    );
    const el = (id: string) => container.querySelector(`#${id}`)!;
    const mk = (init: MouseEventInit = {}) =>
      new MouseEvent('click', { bubbles: true, cancelable: true, button: 0, ...init });
    const hrefFor = (id: string, init?: MouseEventInit) => {
      const event = mk(init);
      Object.defineProperty(event, 'target', { value: el(id) });
      return interceptedHref(event);
    };
    expect(hrefFor('plain')).toBe('/jobs/3');
    expect(hrefFor('nested')).toBe('/jobs/4?tab=logs#end');
    expect(hrefFor('hash')).toBeNull();
    expect(hrefFor('plain', { ctrlKey: true })).toBeNull();
    expect(hrefFor('plain', { metaKey: true })).toBeNull();
    expect(hrefFor('plain', { shiftKey: true })).toBeNull();
    expect(hrefFor('plain', { button: 1 })).toBeNull();
    expect(hrefFor('blank')).toBeNull();
    expect(hrefFor('dl')).toBeNull();
    expect(hrefFor('ext')).toBeNull();
    expect(hrefFor('api')).toBeNull();
    expect(hrefFor('rel')).toBeNull();
    expect(hrefFor('nohref')).toBeNull();
  });
});
