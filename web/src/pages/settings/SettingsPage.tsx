import type { ComponentType, VNode } from 'preact';
import type { AccountApi } from '../../api/account';
import { accountApi } from '../../api/account';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { NotFoundPage } from '../NotFoundPage';
import { AuditSection } from './AuditSection';
import type { SectionProps } from './common';
import { KeysSection } from './KeysSection';
import { MembersSection } from './MembersSection';
import { PasswordSection } from './PasswordSection';
import { ProfileSection } from './ProfileSection';
import { TokensSection } from './TokensSection';

interface SettingsTab {
  /** The URL segment after /settings/ ("" for the first tab, at /settings itself). */
  slug: string;
  label: string;
  component: ComponentType<SectionProps>;
  masterOnly?: boolean;
}

export const SETTINGS_TABS: readonly SettingsTab[] = [
  { slug: '', label: 'Profile', component: ProfileSection },
  { slug: 'password', label: 'Password', component: PasswordSection },
  { slug: 'members', label: 'Members', component: MembersSection },
  { slug: 'tokens', label: 'API tokens', component: TokensSection },
  { slug: 'keys', label: 'SSL keys', component: KeysSection },
  { slug: 'audit', label: 'Audit log', component: AuditSection, masterOnly: true },
];

export function settingsPath(slug: string): string {
  return slug ? `/settings/${slug}` : '/settings';
}

export interface SettingsPageProps extends SignedInPageProps {
  api?: AccountApi;
}

/** /settings and /settings/<section>: the account and the signed-in user's credentials. */
export function SettingsPage({ user, params, api = accountApi }: SettingsPageProps): VNode {
  const slug = params['section'] ?? '';
  const tabs = SETTINGS_TABS.filter((tab) => !tab.masterOnly || user.role === 'master');
  const tab = tabs.find((t) => t.slug === slug);
  useDocumentTitle(tab ? `${tab.label} · Settings` : 'Settings');
  if (!tab) return <NotFoundPage />;
  const Section = tab.component;

  return (
    <section class="page" data-testid="settings-page">
      <header class="page__header">
        <h1 class="page__title">Settings</h1>
      </header>
      <div class="settings">
        <nav class="tabs" aria-label="Settings sections" data-testid="settings-tabs">
          <ul class="tabs__list">
            {tabs.map((t) => {
              const active = t === tab;
              return (
                <li key={t.slug}>
                  <a
                    class={active ? 'tabs__link tabs__link--active' : 'tabs__link'}
                    href={settingsPath(t.slug)}
                    aria-current={active ? 'page' : undefined}
                    data-testid={`settings-tab-${t.slug || 'profile'}`}
                  >
                    {t.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="settings__body">
          <Section key={tab.slug} user={user} api={api} />
        </div>
      </div>
    </section>
  );
}
