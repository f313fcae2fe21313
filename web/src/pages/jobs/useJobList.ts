// The job list behind the dashboard table: the first page for the filters, "Load more" pages after it
// (cursor paging), and `refresh`, which reloads everything shown at once so states stay current.
//
// The list answers with the state the reconciler last saved, so a job that just started can still be
// "Pending" there while its pods run; the job's own answer (GET /api/v1/jobs/:id, what the job page
// shows) reads its pods live. Each pending job is therefore asked for on its own after every load,
// and the row shows that answer once it is further along.
import { useCallback, useEffect, useReducer, useRef } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { Job, JobPage, JobsApi } from '../../api/jobs';
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

interface ListState {
  items: Job[];
  nextCursor: string | null;
  loading: boolean;
  loadingMore: boolean;
  error: ApiError | null;
}

type ListAction =
  | { type: 'start'; loading: boolean }
  | { type: 'page'; page: JobPage; append: boolean }
  | { type: 'more' }
  | { type: 'failed'; error: ApiError; more?: boolean }
  | { type: 'replace'; job: Job };

const START: ListState = { items: [], nextCursor: null, loading: true, loadingMore: false, error: null };

/** `shown` and then the jobs of `more` it does not have yet. */
function appended(shown: Job[], more: Job[]): Job[] {
  const ids = new Set(shown.map((job) => job.id));
  return [...shown, ...more.filter((job) => !ids.has(job.id))];
}

function listReducer(state: ListState, action: ListAction): ListState {
  switch (action.type) {
    case 'start':
      return { ...START, loading: action.loading };
    case 'page':
      return {
        items: action.append ? appended(state.items, action.page.items) : action.page.items,
        nextCursor: action.page.next_cursor ?? null,
        loading: false,
        // A refresh does not end a "Load more" on its way.
        loadingMore: action.append ? false : state.loadingMore,
        error: null,
      };
    case 'more':
      return { ...state, loadingMore: true };
    case 'failed':
      return { ...state, error: action.error, loading: false, loadingMore: action.more ? false : state.loadingMore };
    case 'replace':
      return { ...state, items: state.items.map((item) => (item.id === action.job.id ? action.job : item)) };
  }
}

export function useJobList(api: Pick<JobsApi, 'listJobs'>, filters: JobFilters, master: boolean, enabled = true): JobList {
  const [state, dispatch] = useReducer(listReducer, START);
  // Answers for other filters (or overtaken by a later change) are dropped.
  const generation = useRef(0);
  // A refresh that overlaps a "Load more" would forget the page just added: it is dropped too.
  const pagesLoaded = useRef(0);
  const current = useRef(state);
  current.current = state;
  const key = JSON.stringify([filters.status, filters.name.trim(), filters.from, filters.to, filters.all && master]);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const query = (extra: { limit: number; cursor?: string }) => jobListQuery(filtersRef.current, { master, ...extra });

  useEffect(() => {
    const mine = ++generation.current;
    pagesLoaded.current = 0;
    dispatch({ type: 'start', loading: enabled });
    if (!enabled) return;
    const controller = new AbortController();
    api.listJobs(query({ limit: PAGE_SIZE }), { signal: controller.signal }).then(
      (page) => {
        if (generation.current !== mine) return;
        pagesLoaded.current = 1;
        dispatch({ type: 'page', page, append: false });
      },
      (err) => {
        if (!isAbort(err) && generation.current === mine) dispatch({ type: 'failed', error: toApiError(err) });
      },
    );
    return () => controller.abort();
  }, [api, key, master, enabled]);

  const loadMore = useCallback(() => {
    const { nextCursor: cursor, loadingMore: busy } = current.current;
    if (!cursor || busy) return;
    const mine = generation.current;
    dispatch({ type: 'more' });
    api.listJobs(query({ limit: PAGE_SIZE, cursor })).then(
      (page) => {
        if (generation.current !== mine) return;
        pagesLoaded.current++;
        dispatch({ type: 'page', page, append: true });
      },
      (err) => {
        if (generation.current === mine) dispatch({ type: 'failed', error: toApiError(err), more: true });
      },
    );
  }, [api, master]);

  const refresh = useCallback(
    async (signal?: AbortSignal) => {
      const mine = generation.current;
      const pages = pagesLoaded.current;
      if (pages === 0) return;
      const limit = Math.min(MAX_LIMIT, Math.max(PAGE_SIZE, current.current.items.length));
      try {
        const page = await api.listJobs(query({ limit }), signal ? { signal } : undefined);
        if (generation.current === mine && pagesLoaded.current === pages) dispatch({ type: 'page', page, append: false });
      } catch (err) {
        if (!isAbort(err) && generation.current === mine) dispatch({ type: 'failed', error: toApiError(err) });
      }
    },
    [api, master],
  );

  const replace = useCallback((job: Job) => dispatch({ type: 'replace', job }), []);
  return { ...state, loadMore, refresh, replace };
}
