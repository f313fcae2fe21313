import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { NotFoundPage } from './pages/NotFoundPage';
import { matchPath, Router, useLocation } from './router';
import type { NavItem } from './routes';
import { routes, signedInNav, signedOutNav } from './routes';
import type { Session } from './session';
import { signOut, useSession } from './session';
import { PRODUCT_NAME } from './title';

function Logo(): VNode {
  return <img class="header__logo" src="/favicon.svg" alt="" width={28} height={28} />;
}

function navFor(session: Session): readonly NavItem[] {
  if (session.state === 'signed-in') return signedInNav;
  if (session.state === 'loading') return [];
  return signedOutNav;
}

function Nav({ items }: { items: readonly NavItem[] }): VNode {
  const { path } = useLocation();
  return (
    <nav class="nav" aria-label="Main" data-testid="nav">
      <ul class="nav__list">
        {items.map((item) => {
          const active = item.activeFor.some((pattern) => matchPath(pattern, path) !== null);
          return (
            <li key={item.href}>
              <a
                class={active ? 'nav__link nav__link--active' : 'nav__link'}
                href={item.href}
                aria-current={active ? 'page' : undefined}
                data-testid={`nav-${item.label.toLowerCase().replaceAll(' ', '-')}`}
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

function UserMenu({ email }: { email: string }): VNode {
  const [leaving, setLeaving] = useState(false);
  return (
    <div class="header__user" data-testid="user-menu">
      <a class="header__email" href="/settings" title="Settings" data-testid="user-email">
        {email}
      </a>
      <button
        type="button"
        class="button button--header"
        disabled={leaving}
        onClick={() => {
          setLeaving(true);
          void signOut().finally(() => setLeaving(false));
        }}
        data-testid="sign-out"
      >
        {leaving ? 'Signing out…' : 'Sign out'}
      </button>
    </div>
  );
}

/** The application shell: header bar, left navigation and the current page. */
export function App(): VNode {
  const session = useSession();
  const signedIn = session.state === 'signed-in';
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="header" data-testid="header">
        <a class="header__brand" href={signedIn ? '/dashboard' : '/'} data-testid="brand">
          <Logo />
          <span class="header__name">{PRODUCT_NAME}</span>
        </a>
        {signedIn && <UserMenu email={session.user.email} />}
      </header>
      <Nav items={navFor(session)} />
      <main class="main" id="main" tabIndex={-1}>
        <Router routes={routes} notFound={NotFoundPage} />
      </main>
    </div>
  );
}
