// The job list behind the dashboard table: the first page for the filters, "Load more" pages after it
// (cursor paging), and `refresh`, which reloads everything shown at once so states stay current.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { Job, JobsApi } from '../../api/jobs';
import { isAbort, toApiError } from '../../forms';
import type { JobFilters } from './filters';
import { jobListQuery } from './filters';

export const PAGE_SIZE = 20;
/** The server's largest page. */
export const MAX_LIMIT = 500;

export interface JobList {
  items: Job[];
  nextCursor: string | null;
  /** The first page for these filters is on its way (nothing to show yet). */
  loading: boolean;
  loadingMore: boolean;
  /** The last load failed (the items shown, if any, are from before). */
  error: ApiError | null;
  loadMore: () => void;
  /** Reloads every job shown, from the top, in one request. */
  refresh: (signal?: AbortSignal) => Promise<void>;
  /** Puts a job the server just answered with (e.g. after stopping it) in place of its row. */
  replace: (job: Job) => void;
}

export function useJobList(api: Pick<JobsApi, 'listJobs'>, filters: JobFilters, master: boolean, enabled = true): JobList {
  const [items, setItems] = useState<Job[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  // Answers for other filters (or overtaken by a later change) are dropped.
  const generation = useRef(0);
  // A refresh that overlaps a "Load more" would forget the page just added: it is dropped too.
  const pagesLoaded = useRef(0);
  const state = useRef({ items, nextCursor, loadingMore });
  state.current = { items, nextCursor, loadingMore };

  const key = JSON.stringify([filters.status, filters.name.trim(), filters.from, filters.to, filters.all && master]);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;

  useEffect(() => {
    const mine = ++generation.current;
    pagesLoaded.current = 0;
    setItems([]);
    setNextCursor(null);
    setError(null);
    setLoadingMore(false);
    if (!enabled) {
      setLoading(false);
      return;
    }
    setLoading(true);
    const controller = new AbortController();
    api.listJobs(jobListQuery(filtersRef.current, { master, limit: PAGE_SIZE }), { signal: controller.signal }).then(
      (page) => {
        if (generation.current !== mine) return;
        pagesLoaded.current = 1;
        setItems(page.items);
        setNextCursor(page.next_cursor ?? null);
        setLoading(false);
      },
      (err) => {
        if (isAbort(err) || generation.current !== mine) return;
        setError(toApiError(err));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [api, key, master, enabled]);

  const loadMore = useCallback(() => {
    const { nextCursor: cursor, loadingMore: busy } = state.current;
    if (!cursor || busy) return;
    const mine = generation.current;
    setLoadingMore(true);
    api.listJobs(jobListQuery(filtersRef.current, { master, limit: PAGE_SIZE, cursor })).then(
      (page) => {
        if (generation.current !== mine) return;
        pagesLoaded.current++;
        setItems((shown) => {
          const ids = new Set(shown.map((job) => job.id));
          return [...shown, ...page.items.filter((job) => !ids.has(job.id))];
        });
        setNextCursor(page.next_cursor ?? null);
        setError(null);
        setLoadingMore(false);
      },
      (err) => {
        if (generation.current !== mine) return;
        setError(toApiError(err));
        setLoadingMore(false);
      },
    );
  }, [api, master]);

  const refresh = useCallback(
    async (signal?: AbortSignal) => {
      const mine = generation.current;
      const pages = pagesLoaded.current;
      if (pages === 0) return;
      const limit = Math.min(MAX_LIMIT, Math.max(PAGE_SIZE, state.current.items.length));
      try {
        const page = await api.listJobs(
          jobListQuery(filtersRef.current, { master, limit }),
          signal ? { signal } : undefined,
        );
        if (generation.current !== mine || pagesLoaded.current !== pages) return;
        setItems(page.items);
        setNextCursor(page.next_cursor ?? null);
        setError(null);
      } catch (err) {
        if (isAbort(err) || generation.current !== mine) return;
        setError(toApiError(err));
      }
    },
    [api, master],
  );

  const replace = useCallback((job: Job) => {
    setItems((shown) => shown.map((item) => (item.id === job.id ? job : item)));
  }, []);

  return { items, nextCursor, loading, loadingMore, error, loadMore, refresh, replace };
}
