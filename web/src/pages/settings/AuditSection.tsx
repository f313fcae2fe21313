import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditEvent } from '../../api/account';
import { ErrorBanner, FilterSelect, useAction } from '../../forms';
import { formatUnix, isoFromUnix } from '../../format';
import { DataTable } from '../../table';
import { AUDIT_KIND_FILTERS, AUDIT_PERIODS, auditQuery, describeAuditEvent } from './audit';
import type { SectionProps } from './common';
import { Section } from './common';

export const AUDIT_PAGE_SIZE = 50;

/** The events shown with the filters in effect: the newest page when a filter changes, then `more()`. */
function useAuditLog(api: SectionProps['api']) {
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
  const more = cursor ? () => void loadPage(cursor) : undefined;
  return { events, loaded, load, more, kind, setKind, period, setPeriod };
}

/** Security events of the account, newest first, a page at a time (master only). */
export function AuditSection({ api }: SectionProps): VNode {
  const log = useAuditLog(api);
  return (
    <Section
      title="Audit log"
      description="Security events of this account: sign-ins, passwords, API tokens, keys, members, shares, public links and publishing. Newest first. A job’s own token is not listed: it lives and dies with the job."
      testId="audit-section"
    >
      <div class="filters" role="search" aria-label="Filter the audit log">
        <FilterSelect label="Show" value={log.kind} onValue={log.setKind} options={AUDIT_KIND_FILTERS} testId="audit-filter-kind" />
        <FilterSelect label="When" value={log.period} onValue={log.setPeriod} options={AUDIT_PERIODS} testId="audit-filter-period" />
      </div>
      {log.load.error && <ErrorBanner error={log.load.error} testId="audit-error" />}
      {!log.loaded && log.load.pending && <p class="loading">Loading events…</p>}
      {log.loaded && log.events.length === 0 && (
        <p class="muted" data-testid="audit-empty">
          {log.kind || log.period ? 'No events match these filters.' : 'No events yet.'}
        </p>
      )}
      {log.events.length > 0 && <AuditTable events={log.events} />}
      {log.loaded && log.more && (
        <p>
          <button type="button" class="button button--secondary" disabled={log.load.pending} onClick={log.more} data-testid="audit-more">
            {log.load.pending ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </Section>
  );
}

function AuditTable({ events }: { events: AuditEvent[] }): VNode {
  return (
    <DataTable columns={['Time', 'Event', 'By']} testId="audit-table">
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
    </DataTable>
  );
}
