// The page table: every in-app URL and the navigation that links to it.
import { StatusPage } from './pages/StatusPage';
import type { Route } from './router';

export const routes: readonly Route[] = [
  { path: '/', component: StatusPage },
  { path: '/status', component: StatusPage },
];

export interface NavItem {
  label: string;
  href: string;
  /** Route patterns for which this item is the current one. */
  activeFor: readonly string[];
}

/** The left navigation: only pages that exist. */
export const navItems: readonly NavItem[] = [{ label: 'Status', href: '/status', activeFor: ['/', '/status'] }];
