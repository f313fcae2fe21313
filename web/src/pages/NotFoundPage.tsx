import type { VNode } from 'preact';
import { useLocation } from '../router';
import { useDocumentTitle } from '../title';

/** Shown for any in-app path that no route matches. */
export function NotFoundPage(): VNode {
  const { path } = useLocation();
  useDocumentTitle('Page not found');
  return (
    <section class="page not-found" data-testid="not-found">
      <h1 class="page__title">Page not found</h1>
      <p class="not-found__text">
        There is no page at <code data-testid="not-found-path">{path}</code>.
      </p>
      <p>
        <a class="button" href="/status" data-testid="not-found-home">
          Go to Status
        </a>
      </p>
    </section>
  );
}
