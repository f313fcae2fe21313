import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
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

const NAV_ID = 'main-nav';

/**
 * The navigation: a column on the left; on narrow screens (styles.css) it is folded away behind the
 * header's menu button and opens under the header. It folds again after each navigation and on Escape.
 */
function Nav({ items, open, onClose }: { items: readonly NavItem[]; open: boolean; onClose: (refocus: boolean) => void }): VNode {
  const { path } = useLocation();
  return (
    <nav
      id={NAV_ID}
      class={open ? 'nav nav--open' : 'nav'}
      aria-label="Main"
      data-testid="nav"
      onKeyDown={(event) => {
        if (open && event.key === 'Escape') onClose(true);
      }}
    >
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
                {item.indicator && <item.indicator />}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

function NavToggle({ open, onToggle, buttonRef }: { open: boolean; onToggle: () => void; buttonRef: { current: HTMLButtonElement | null } }): VNode {
  return (
    <button
      ref={buttonRef}
      type="button"
      class="nav-toggle"
      aria-expanded={open ? 'true' : 'false'}
      aria-controls={NAV_ID}
      onClick={onToggle}
      data-testid="nav-toggle"
    >
      <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
        <path d={open ? 'M5 5l10 10M15 5L5 15' : 'M3 5h14M3 10h14M3 15h14'} />
      </svg>
      <span class="nav-toggle__label">Menu</span>
    </button>
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
  const items = navFor(session);
  const { path } = useLocation();
  const [navOpen, setNavOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => setNavOpen(false), [path]);
  const closeNav = (refocus: boolean) => {
    setNavOpen(false);
    if (refocus) toggle.current?.focus();
  };
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
        {items.length > 0 && <NavToggle open={navOpen} onToggle={() => setNavOpen(!navOpen)} buttonRef={toggle} />}
      </header>
      <Nav items={items} open={navOpen} onClose={closeNav} />
      <main class="main" id="main" tabIndex={-1}>
        <Router routes={routes} notFound={NotFoundPage} />
      </main>
    </div>
  );
}
