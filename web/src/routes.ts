// The page table: every in-app URL and the navigation that links to it.
import type { ComponentType } from 'preact';
import { BoardPage, JobBoardPage } from './pages/board/BoardPage';
import { DashboardPage } from './pages/DashboardPage';
import { AllFilesPage, DatasetsPage, ModelsPage, WorkspacePage } from './pages/files/FileBrowserPage';
import { LinkPage } from './pages/files/LinkPage';
import { PublicPage } from './pages/files/PublicPage';
import { SharedPage } from './pages/files/SharedPage';
import { ForgotPasswordPage } from './pages/ForgotPasswordPage';
import { InvitePage } from './pages/InvitePage';
import { JobDetailPage } from './pages/jobs/JobDetailPage';
import { NotebookPage } from './pages/notebook/NotebookPage';
import { NotebookIndicator } from './pages/notebook/status';
import { PerfPage } from './pages/perf/PerfPage';
import { QuotaPage } from './pages/quota/QuotaPage';
import { SubmitJobPage } from './pages/jobs/SubmitJobPage';
import { LoginPage } from './pages/LoginPage';
import { RegisterPage } from './pages/RegisterPage';
import { ResetPasswordPage } from './pages/ResetPasswordPage';
import { InstancePage } from './pages/serving/InstancePage';
import { ServingPage } from './pages/serving/ServingPage';
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
  // A public link to shared files: no sign-in.
  { path: '/s/:token/*', component: LinkPage },
  // Signed in
  { path: '/dashboard', component: requireUser(DashboardPage) },
  { path: '/jobs', component: JobsRedirect },
  // Before '/jobs/:id', which would take "new" for an id.
  { path: '/jobs/new', component: requireUser(SubmitJobPage) },
  { path: '/jobs/:id', component: requireUser(JobDetailPage) },
  { path: '/jobs/:id/perf', component: requireUser(PerfPage) },
  { path: '/jobs/:id/board', component: requireUser(JobBoardPage) },
  { path: '/board', component: requireUser(BoardPage) },
  { path: '/notebook', component: requireUser(NotebookPage) },
  { path: '/quota', component: requireUser(QuotaPage) },
  { path: '/serving', component: requireUser(ServingPage) },
  // One segment: the inference gateway takes /serving/<account>/<name>/..., never /serving/<name>.
  { path: '/serving/:name', component: requireUser(InstancePage) },
  { path: '/settings', component: requireUser(SettingsPage) },
  { path: '/settings/:section', component: requireUser(SettingsPage) },
  // Datasets and models: the file browser (the route's rest is the folder inside the space).
  { path: '/datasets/*', component: requireUser(DatasetsPage) },
  { path: '/models/*', component: requireUser(ModelsPage) },
  { path: '/workspace/*', component: requireUser(WorkspacePage) },
  { path: '/files/*', component: requireUser(AllFilesPage) },
  { path: '/public', component: requireUser(PublicPage) },
  { path: '/shared', component: requireUser(SharedPage) },
];

export interface NavItem {
  label: string;
  href: string;
  /** Route patterns for which this item is the current one. */
  activeFor: readonly string[];
  /** Shown after the label (e.g. the notebook's state). */
  indicator?: ComponentType;
}

/** The left navigation of a signed-in user: only pages that exist. */
export const signedInNav: readonly NavItem[] = [
  { label: 'Jobs', href: '/dashboard', activeFor: ['/dashboard', '/jobs', '/jobs/new', '/jobs/:id', '/jobs/:id/perf', '/jobs/:id/board'] },
  { label: 'Board', href: '/board', activeFor: ['/board'] },
  { label: 'Notebook', href: '/notebook', activeFor: ['/notebook'], indicator: NotebookIndicator },
  { label: 'Serving', href: '/serving', activeFor: ['/serving', '/serving/:name'] },
  { label: 'Quota', href: '/quota', activeFor: ['/quota'] },
  { label: 'Datasets', href: '/datasets', activeFor: ['/datasets/*'] },
  { label: 'Models', href: '/models', activeFor: ['/models/*'] },
  { label: 'Public', href: '/public', activeFor: ['/public', '/files/public/*'] },
  { label: 'Shared with me', href: '/shared', activeFor: ['/shared', '/files/shared/*'] },
  { label: 'Settings', href: '/settings', activeFor: ['/settings', '/settings/:section'] },
  { label: 'Status', href: '/status', activeFor: ['/status'] },
];

/** The left navigation of a visitor who is not signed in. */
export const signedOutNav: readonly NavItem[] = [
  { label: 'Sign in', href: '/login', activeFor: ['/login', '/forgot-password', '/reset-password'] },
  { label: 'Register', href: '/register', activeFor: ['/register', '/verify'] },
  { label: 'Status', href: '/status', activeFor: ['/status'] },
];
