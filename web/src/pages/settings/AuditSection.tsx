import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditEvent } from '../../api/account';
import { ErrorBanner, useAction } from '../../forms';
import { formatUnix, isoFromUnix } from '../../format';
import { AUDIT_KIND_FILTERS, AUDIT_PERIODS, auditQuery, describeAuditEvent } from './audit';
import type { SectionProps } from './common';
import { Section } from './common';

export const AUDIT_PAGE_SIZE = 50;

/** Security events of the account, newest first, a page at a time (master only). */
export function AuditSection({ api }: SectionProps): VNode {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const [kind, setKind] = useState('');
  const [period, setPeriod] = useState('');
  const load = useAction();

  const loadPage = (after?: string) =>
    load.run(async () => {
      const filters = auditQuery(kind, period, Math.floor(Date.now() / 1000));
      const page = await api.listAudit({ limit: AUDIT_PAGE_SIZE, ...filters, ...(after ? { cursor: after } : {}) });
      setEvents((previous) => {
        if (!after) return page.items;
        // A page may overlap what is shown when events arrive meanwhile: keep each id once.
        const seen = new Set(previous.map((e) => e.id));
        return [...previous, ...page.items.filter((e) => !seen.has(e.id))];
      });
      setCursor(page.next_cursor || undefined);
      setLoaded(true);
    });

  useEffect(() => {
    void loadPage(); // when the section opens, and again from the newest when a filter changes
  }, [kind, period]);

  return (
    <Section
      title="Audit log"
      description="Security events of this account: sign-ins, passwords, API tokens, keys, members, shares, public links and publishing. Newest first. A job’s own token is not listed: it lives and dies with the job."
      testId="audit-section"
    >
      <div class="filters" role="search" aria-label="Filter the audit log">
        <label class="filters__field">
          <span class="filters__label">Show</span>
          <select class="field__input" value={kind} onChange={(e) => setKind(e.currentTarget.value)} data-testid="audit-filter-kind">
            {AUDIT_KIND_FILTERS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </label>
        <label class="filters__field">
          <span class="filters__label">When</span>
          <select class="field__input" value={period} onChange={(e) => setPeriod(e.currentTarget.value)} data-testid="audit-filter-period">
            {AUDIT_PERIODS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {load.error && <ErrorBanner error={load.error} testId="audit-error" />}
      {!loaded && load.pending && <p class="loading">Loading events…</p>}
      {loaded && events.length === 0 && (
        <p class="muted" data-testid="audit-empty">
          {kind || period ? 'No events match these filters.' : 'No events yet.'}
        </p>
      )}
      {events.length > 0 && (
        <div class="table-wrap">
          <table class="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id} data-testid="audit-row">
                  <td class="table__nowrap">
                    <time dateTime={isoFromUnix(event.at)}>{formatUnix(event.at)}</time>
                  </td>
                  <td data-testid="audit-event" data-event={event.event} title={event.event}>
                    {describeAuditEvent(event)}
                  </td>
                  <td>
                    {event.actor}
                    {event.remote_address && <span class="table__sub">from {event.remote_address}</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {loaded && cursor && (
        <p>
          <button
            type="button"
            class="button button--secondary"
            disabled={load.pending}
            onClick={() => void loadPage(cursor)}
            data-testid="audit-more"
          >
            {load.pending ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </Section>
  );
}
