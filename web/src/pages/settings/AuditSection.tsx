import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditEvent } from '../../api/account';
import { ErrorBanner, useAction } from '../../forms';
import { formatUnix, isoFromUnix } from '../../format';
import type { SectionProps } from './common';
import { describeDetails, Section } from './common';

export const AUDIT_PAGE_SIZE = 50;

/** Security events of the account, newest first, a page at a time (master only). */
export function AuditSection({ api }: SectionProps): VNode {
  const [events, setEvents] = useState<AuditEvent[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [loaded, setLoaded] = useState(false);
  const load = useAction();

  const loadPage = (after?: string) =>
    load.run(async () => {
      const page = await api.listAudit({ limit: AUDIT_PAGE_SIZE, ...(after ? { cursor: after } : {}) });
      setEvents((previous) => {
        // A page may overlap what is shown when events arrive meanwhile: keep each id once.
        const seen = new Set(previous.map((e) => e.id));
        return [...previous, ...page.items.filter((e) => !seen.has(e.id))];
      });
      setCursor(page.next_cursor || undefined);
      setLoaded(true);
    });

  useEffect(() => {
    void loadPage(); // once, when the section opens
  }, []);

  return (
    <Section
      title="Audit log"
      description="Security events of this account: sign-ins, password changes, tokens, keys and membership changes. Newest first."
      testId="audit-section"
    >
      {load.error && <ErrorBanner error={load.error} testId="audit-error" />}
      {!loaded && load.pending && <p class="loading">Loading events…</p>}
      {loaded && events.length === 0 && (
        <p class="muted" data-testid="audit-empty">
          No events yet.
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
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr key={event.id} data-testid="audit-row">
                  <td class="table__nowrap">
                    <time dateTime={isoFromUnix(event.at)}>{formatUnix(event.at)}</time>
                  </td>
                  <td>
                    <code class="code--plain" data-testid="audit-event">
                      {event.event}
                    </code>
                  </td>
                  <td>
                    {event.actor}
                    {event.remote_address && <span class="table__sub">from {event.remote_address}</span>}
                  </td>
                  <td class="table__wrap">{describeDetails(event.details)}</td>
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
