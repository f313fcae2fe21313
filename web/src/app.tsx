import type { VNode } from 'preact';
import { NotFoundPage } from './pages/NotFoundPage';
import { matchPath, Router, useLocation } from './router';
import { navItems, routes } from './routes';
import { PRODUCT_NAME } from './title';

function Logo(): VNode {
  return <img class="header__logo" src="/favicon.svg" alt="" width={28} height={28} />;
}

function Nav(): VNode {
  const { path } = useLocation();
  return (
    <nav class="nav" aria-label="Main" data-testid="nav">
      <ul class="nav__list">
        {navItems.map((item) => {
          const active = item.activeFor.some((pattern) => matchPath(pattern, path) !== null);
          return (
            <li key={item.href}>
              <a
                class={active ? 'nav__link nav__link--active' : 'nav__link'}
                href={item.href}
                aria-current={active ? 'page' : undefined}
                data-testid={`nav-${item.label.toLowerCase()}`}
              >
                {item.label}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** The application shell: header bar, left navigation and the current page. */
export function App(): VNode {
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="header" data-testid="header">
        <a class="header__brand" href="/" data-testid="brand">
          <Logo />
          <span class="header__name">{PRODUCT_NAME}</span>
        </a>
      </header>
      <Nav />
      <main class="main" id="main" tabIndex={-1}>
        <Router routes={routes} notFound={NotFoundPage} />
      </main>
    </div>
  );
}
