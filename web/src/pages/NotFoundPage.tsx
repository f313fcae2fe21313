import type { VNode } from 'preact';
import { useLocation } from '../router';
import { useSession } from '../session';
import { useDocumentTitle } from '../title';

/** Shown for any in-app path that no route matches. */
export function NotFoundPage(): VNode {
  const { path } = useLocation();
  const session = useSession();
  useDocumentTitle('Page not found');
  const home =
    session.state === 'signed-in' ? { href: '/dashboard', label: 'Go to Jobs' } : { href: '/status', label: 'Go to Status' };
  return (
    <section class="page not-found" data-testid="not-found">
      <h1 class="page__title">Page not found</h1>
      <p class="not-found__text">
        There is no page at <code data-testid="not-found-path">{path}</code>.
      </p>
      <p>
        <a class="button" href={home.href} data-testid="not-found-home">
          {home.label}
        </a>
      </p>
    </section>
  );
}
