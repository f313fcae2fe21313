// Paddle Board: typed calls for the sources that have training curves, a source's graphs, a graph's
// points and the live stream of new points (docs/board.md, "Sources" and "API", is the contract).
// Numbers that are not finite arrive as the strings "NaN", "Infinity" and "-Infinity"; the page
// decodes them (pages/board/model.ts: decodeNumber). Wall times are unix seconds.
import type { RequestOptions } from './client';
import { get } from './client';

/** A number as the board API writes it. */
export type WireNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** `job:<id>` or `run:<id>`. */
export type SourceId = string;

/** One entry of GET /board/sources. */
export interface BoardSource {
  source: SourceId;
  kind: 'job' | 'run' | (string & {});
  name: string;
  /** A job's state; absent for a run. */
  state?: string;
  created_at: number;
  last_point_at: number | null;
  curves: number;
}

export interface BoardCurve {
  curve: string;
  pod: string;
  points: number;
  first_step: number;
  last_step: number;
  last_value: WireNumber;
  last_wall_time: number;
}

export interface BoardGraph {
  name: string;
  curves: BoardCurve[];
}

/** GET /jobs/{job}/board, GET /board/runs/{run}/board. */
export interface SourceBoard {
  source: SourceId;
  graphs: BoardGraph[];
  skipped: { corrupt_records: number; out_of_order: number; over_limit: number };
}

/** One curve of one source in GET /board/data: aligned arrays, one entry per point or per bucket. */
export interface DataSeries {
  source: SourceId;
  curve: string;
  pod: string;
  exact: boolean;
  bucket_steps: number;
  step: number[];
  min: WireNumber[];
  max: WireNumber[];
  mean: WireNumber[];
  last: WireNumber[];
  count: number[];
  wall_time: number[];
  /** Only when asked with `smoothing`. */
  smoothed?: WireNumber[];
}

export interface GraphData {
  graph: string;
  series: DataSeries[];
}

export interface DataQuery {
  sources: readonly SourceId[];
  graph: string;
  from_step?: number | undefined;
  to_step?: number | undefined;
  points?: number;
  /** 0 < w < 1; left out for the raw curve only. */
  smoothing?: number | undefined;
}

/** Event `points` of the stream. */
export interface StreamPoints {
  source: SourceId;
  graph: string;
  curve: string;
  pod: string;
  step: number[];
  value: WireNumber[];
  wall_time: number[];
}

const API = '/api/v1';

/** `job:12` → { kind: 'job', id: 12 }; null for anything else. */
export function parseSourceId(source: string): { kind: 'job' | 'run'; id: number } | null {
  const match = /^(job|run):([1-9][0-9]{0,15})$/.exec(source);
  return match ? { kind: match[1] as 'job' | 'run', id: Number(match[2]) } : null;
}

/** The path of a source's board (its graphs), below which its export lives. */
export function sourceBoardPath(source: SourceId): string {
  const parsed = parseSourceId(source);
  if (!parsed) throw new Error(`not a board source: ${source}`);
  return parsed.kind === 'job' ? `${API}/jobs/${parsed.id}/board` : `${API}/board/runs/${parsed.id}/board`;
}

export function boardExportUrl(source: SourceId, format: 'csv' | 'json'): string {
  return `${sourceBoardPath(source)}/export?format=${format}`;
}

/** Repeated `source=` parameters (the client's query builder takes one value a key). */
function sourcesQuery(sources: readonly SourceId[]): string {
  const params = new URLSearchParams();
  for (const source of sources) params.append('source', source);
  return params.toString();
}

export function boardStreamUrl(sources: readonly SourceId[]): string {
  return `${API}/board/stream?${sourcesQuery(sources)}`;
}

export function listSources(options?: RequestOptions): Promise<{ sources: BoardSource[] }> {
  return get(`${API}/board/sources`, options);
}

export function getSourceBoard(source: SourceId, options?: RequestOptions): Promise<SourceBoard> {
  return get(sourceBoardPath(source), options);
}

export function getGraphData(query: DataQuery, options?: RequestOptions): Promise<GraphData> {
  return get(`${API}/board/data?${sourcesQuery(query.sources)}`, {
    ...options,
    query: { graph: query.graph, from_step: query.from_step, to_step: query.to_step, points: query.points, smoothing: query.smoothing },
  });
}

export const boardApi = { listSources, getSourceBoard, getGraphData };
export type BoardApi = typeof boardApi;
