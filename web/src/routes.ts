// The page table: every in-app URL and the navigation that links to it.
import { DashboardPage } from './pages/DashboardPage';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { InvitePage } from './pages/InvitePage';
import { JobDetailPage } from './pages/jobs/JobDetailPage';
import { SubmitJobPage } from './pages/jobs/SubmitJobPage';
import { LoginPage } from './pages/LoginPage';
import { RegisterPage } from './pages/RegisterPage';
import { ResetPasswordPage } from './pages/ResetPasswordPage';
import { SettingsPage } from './pages/settings/SettingsPage';
import { StatusPage } from './pages/StatusPage';
import { VerifyPage } from './pages/VerifyPage';
import type { Route } from './router';
import { guestOnly, HomeRedirect, JobsRedirect, requireUser } from './session';

export const routes: readonly Route[] = [
  { path: '/', component: HomeRedirect },
  { path: '/status', component: StatusPage },
  // Signed out
  { path: '/login', component: guestOnly(LoginPage) },
  { path: '/register', component: guestOnly(RegisterPage) },
  { path: '/forgot-password', component: ForgotPasswordPage },
  // Mailed links
  { path: '/verify', component: VerifyPage },
  { path: '/reset-password', component: ResetPasswordPage },
  { path: '/invite', component: InvitePage },
  // Signed in
  { path: '/dashboard', component: requireUser(DashboardPage) },
  { path: '/jobs', component: JobsRedirect },
  // Before '/jobs/:id', which would take "new" for an id.
  { path: '/jobs/new', component: requireUser(SubmitJobPage) },
  { path: '/jobs/:id', component: requireUser(JobDetailPage) },
  { path: '/settings', component: requireUser(SettingsPage) },
  { path: '/settings/:section', component: requireUser(SettingsPage) },
];

export interface NavItem {
  label: string;
  href: string;
  /** Route patterns for which this item is the current one. */
  activeFor: readonly string[];
}

/** The left navigation of a signed-in user: only pages that exist. */
export const signedInNav: readonly NavItem[] = [
  { label: 'Jobs', href: '/dashboard', activeFor: ['/dashboard', '/jobs', '/jobs/new', '/jobs/:id'] },
  { label: 'Settings', href: '/settings', activeFor: ['/settings', '/settings/:section'] },
  { label: 'Status', href: '/status', activeFor: ['/status'] },
];

/** The left navigation of a visitor who is not signed in. */
export const signedOutNav: readonly NavItem[] = [
  { label: 'Sign in', href: '/login', activeFor: ['/login', '/forgot-password', '/reset-password'] },
  { label: 'Register', href: '/register', activeFor: ['/register', '/verify'] },
  { label: 'Status', href: '/status', activeFor: ['/status'] },
];
