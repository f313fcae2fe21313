// The Serving pages' pure parts: the launch form's checks and resource split, the stats as text, the
// "try it" request built from a model's v2 metadata, the client snippets, and the chart models drawn
// from GET /api/v1/serving/{name}/metrics. The pages and their tests share them.
import type { ServingInstance, ServingLaunch, ServingMetrics, ServingRuntime } from '../../api/serving';
import type { FieldErrors } from '../../validation';
import { collectErrors } from '../../validation';
import { cpuMilli, memoryBytes } from '../jobs/capacity';
import type { Tone } from '../jobs/common';
import type { ChartModel, Line } from '../perf/series';
import { podColor } from '../perf/series';

// ---- States and stats -----------------------------------------------------------------------------

export function servingTone(state: string): Tone {
  if (state === 'ready') return 'ok';
  if (state === 'starting' || state === 'degraded') return 'pending';
  if (state === 'failed') return 'bad';
  return 'neutral';
}

/** While an instance may change by itself, its page asks again every 2 s. */
export function isSettling(instance: Pick<ServingInstance, 'state' | 'replica_list'>): boolean {
  return instance.state !== 'inactive' || instance.replica_list.some((replica) => replica.draining);
}

function decimals(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return String(Math.round(value));
  if (abs >= 10) return value.toFixed(1).replace(/\.0$/, '');
  return String(Number(value.toPrecision(abs < 1 ? 2 : 3)));
}

/** The job pod phase the log console draws for a replica's phase (Pending, Starting, Ready, NotReady, Failed). */
export function podPhaseOf(replicaPhase: string): string {
  if (replicaPhase === 'Ready') return 'Running';
  if (replicaPhase === 'Starting' || replicaPhase === 'NotReady') return 'Pending';
  return replicaPhase;
}

/** Requests per second: "12.5 req/s"; "—" without requests. */
export function formatQps(qps: number | null | undefined): string {
  return qps === null || qps === undefined || !Number.isFinite(qps) ? '—' : `${decimals(qps)} req/s`;
}

/** Milliseconds: "0.82 ms", "12.3 ms", "1.25 s"; "—" without requests. */
export function formatLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return ms >= 1000 ? `${decimals(ms / 1000)} s` : `${decimals(ms)} ms`;
}

/** A fraction of requests as a percentage: 0.012 -> "1.2%"; "—" without requests. */
export function formatErrorRate(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '—';
  return rate === 0 ? '0%' : `${decimals(rate * 100)}%`;
}

/** "4 CPUs", "1 CPU", "0.5 CPU". */
export function cpuText(milli: number): string {
  const cores = Number((milli / 1000).toFixed(3));
  return `${cores} CPU${cores > 1 ? 's' : ''}`;
}

/** The CPU of one replica in millicores, from `cpu_milli` or `cpu` (cores, or a quantity such as "500m"). */
export function replicaCpuMilli(resources: Pick<ServingInstance['resources'], 'cpu' | 'cpu_milli'>): number | null {
  if (typeof resources.cpu_milli === 'number') return resources.cpu_milli;
  if (typeof resources.cpu === 'number') return Math.round(resources.cpu * 1000);
  return cpuMilli(resources.cpu);
}

/** "0.5 CPU, 256 MiB memory, 0 GPUs" (memory by `formatSize`). */
export function replicaResourcesText(resources: ServingInstance['resources'], formatSize: (bytes: number) => string): string {
  const milli = replicaCpuMilli(resources);
  const gpus = `${resources.gpus} GPU${resources.gpus === 1 ? '' : 's'}`;
  return `${milli === null ? String(resources.cpu) : cpuText(milli)}, ${formatSize(resources.memory_bytes)} memory, ${gpus}`;
}

// ---- The launch form ------------------------------------------------------------------------------

export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export interface LaunchForm {
  name: string;
  model: string;
  runtime: ServingRuntime;
  model_file: string;
  model_py: string;
  command: string;
  /** CPU of all replicas together, split into replicas of `cpu` each. */
  cpu_total: string;
  /** CPU per replica. */
  cpu: string;
  memory: string;
  gpus: string;
  public: boolean;
}

export const LAUNCH_FIELDS = ['name', 'model', 'runtime', 'model_file', 'model_py', 'command', 'cpu_total', 'cpu', 'memory', 'gpus', 'public'] as const;
export type LaunchField = (typeof LAUNCH_FIELDS)[number];

/** How the CPU in total splits into replicas: "4 CPUs = 4 replicas × 1 CPU", or why it does not. */
export function resourceSplit(total: string, perReplica: string): { replicas: number; text: string } | { error: string; field: 'cpu_total' | 'cpu' } {
  const each = cpuMilli(perReplica);
  if (each === null || each === 0) return { error: 'Enter the CPU of one replica, such as 1, 0.5 or 500m.', field: 'cpu' };
  const all = cpuMilli(total);
  if (all === null || all === 0) return { error: 'Enter the CPU of all replicas together, such as 2 or 1.5.', field: 'cpu_total' };
  if (all % each !== 0) return { error: `${cpuText(all)} does not split into replicas of ${cpuText(each)}.`, field: 'cpu_total' };
  const replicas = all / each;
  if (replicas > 64) return { error: `That is ${replicas} replicas; at most 64.`, field: 'cpu_total' };
  return { replicas, text: `${cpuText(all)} = ${replicas} replica${replicas === 1 ? '' : 's'} × ${cpuText(each)}` };
}

/** The browser-side checks of the launch form, mirroring the server's. */
export function checkLaunch(form: LaunchForm): FieldErrors<LaunchField> {
  const split = resourceSplit(form.cpu_total, form.cpu);
  const memory = memoryBytes(form.memory);
  return collectErrors<LaunchField>({
    name: NAME_PATTERN.test(form.name) ? undefined : 'Use 1 to 40 lower-case letters, digits and dashes, starting and ending with a letter or digit.',
    model: form.model.trim() === '' ? 'Choose a model, or upload one.' : undefined,
    runtime: undefined,
    model_file: form.runtime === 'onnx' && form.model_file.trim() !== '' && !form.model_file.trim().toLowerCase().endsWith('.onnx') ? 'Name an .onnx file of the model.' : undefined,
    model_py: form.runtime === 'python' && form.model_py.trim() === '' ? 'Write model.py, or pick a model that has one.' : undefined,
    command: form.runtime === 'command' && form.command.trim() === '' ? 'Enter the command that serves the model on $PORT.' : undefined,
    cpu_total: 'error' in split && split.field === 'cpu_total' ? split.error : undefined,
    cpu: 'error' in split && split.field === 'cpu' ? split.error : undefined,
    memory: memory === null || memory === 0 ? 'Enter a memory amount such as 1Gi or 512Mi.' : undefined,
    gpus: /^\d{1,2}$/.test(form.gpus.trim()) ? undefined : 'Enter a whole number of GPUs per replica (0 for none).',
    public: undefined,
  });
}

/** The POST /api/v1/serving body of a checked form. */
export function launchBody(form: LaunchForm): ServingLaunch {
  const split = resourceSplit(form.cpu_total, form.cpu);
  const body: ServingLaunch = {
    name: form.name,
    model: form.model.trim(),
    runtime: form.runtime,
    replicas: 'replicas' in split ? split.replicas : 1,
    cpu: form.cpu.trim(),
    memory: form.memory.trim(),
    gpus: Number(form.gpus.trim()),
    public: form.public,
  };
  if (form.runtime === 'onnx' && form.model_file.trim() !== '') body.model_file = form.model_file.trim();
  if (form.runtime === 'python') body.model_py = form.model_py;
  if (form.runtime === 'command') body.command = form.command.trim();
  return body;
}

/** The `.onnx` file to serve by default: the only one among `names`, else none. */
export function defaultModelFile(names: readonly string[]): string {
  const onnx = names.filter((name) => name.toLowerCase().endsWith('.onnx'));
  return onnx.length === 1 ? onnx[0]! : '';
}

/** A model the picker can offer: a folder, an .onnx file or an archive. */
export function isModelEntry(entry: { name: string; kind: string }): boolean {
  return entry.kind === 'folder' || /\.(onnx|tar\.gz|tgz)$/i.test(entry.name);
}

/** The instance name a model's path suggests: "models/fit_a_line.tar.gz" -> "fit-a-line". */
export function suggestedName(path: string): string {
  const last = path.split('/').filter(Boolean).pop() ?? '';
  const stem = last.replace(/\.(tar\.gz|tgz|onnx)$/i, '');
  return stem.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
}

/** model.py as docs/serving.md's "The contract with model.py" describes it. */
export const MODEL_PY_TEMPLATE = `# model.py: served by the Python runtime (docs/serving.md, "The contract with model.py").
import os

import numpy as np

# The tensors of the Open Inference Protocol: -1 means any size.
INPUTS = [{"name": "x", "datatype": "FP32", "shape": [-1, 13]}]
OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}]
THREAD_SAFE = True  # predict only reads the state


def load(model_dir):
    """Called once before the replica is ready; returns the state given to predict."""
    weights = np.load(os.path.join(model_dir, "weights.npy"))
    return weights[:13].reshape(13, 1), weights[13]


def predict(state, inputs):
    """inputs: name -> numpy array. Returns name -> array, or one array for one output."""
    w, b = state
    return inputs["x"] @ w + b
`;

// ---- "Try it": the v2 protocol ----------------------------------------------------------------------

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

/** GET /v2/models/{name}. */
export interface ModelMetadata {
  name: string;
  platform?: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

function zeroOf(datatype: string): number | boolean | string {
  if (datatype === 'BOOL') return false;
  if (datatype === 'BYTES') return '';
  return 0;
}

/** An infer request with a zero tensor of every input, dynamic dimensions (-1) taken as 1. */
export function zeroRequest(metadata: Pick<ModelMetadata, 'inputs'>): { inputs: Array<TensorMetadata & { data: Array<number | boolean | string> }> } {
  return {
    inputs: metadata.inputs.map((input) => {
      const shape = input.shape.map((dim) => (dim < 0 ? 1 : dim));
      const count = shape.reduce((product, dim) => product * dim, 1);
      return { name: input.name, shape, datatype: input.datatype, data: new Array(count).fill(zeroOf(input.datatype)) };
    }),
  };
}

/** The absolute gateway URL of an instance on this origin. */
export function gatewayUrl(origin: string, instance: Pick<ServingInstance, 'url'>): string {
  return `${origin.replace(/\/+$/, '')}${instance.url}`;
}

function pythonLiteral(value: unknown): string {
  return JSON.stringify(value).replaceAll('true', 'True').replaceAll('false', 'False').replaceAll('null', 'None');
}

/** Copyable clients of an instance: curl, Python's requests, and the paddlecloud SDK. */
export function clientSnippets(origin: string, instance: Pick<ServingInstance, 'name' | 'url' | 'infer_url' | 'public'>, request: object): { curl: string; requests: string; sdk: string } {
  const infer = `${origin.replace(/\/+$/, '')}${instance.infer_url}`;
  const body = JSON.stringify(request);
  const auth = instance.public ? '' : ` \\\n  -H "Authorization: Bearer $PADDLE_CLOUD_TOKEN"`;
  const curl = `curl -s ${infer}${auth} \\\n  -H "Content-Type: application/json" \\\n  -d '${body.replaceAll("'", "'\\''")}'`;
  const headers = instance.public ? '' : `,\n    headers={"Authorization": "Bearer " + os.environ["PADDLE_CLOUD_TOKEN"]}`;
  const requests = `import os\n\nimport requests\n\nanswer = requests.post(\n    "${infer}",\n    json=${pythonLiteral(request)}${headers},\n    timeout=60,\n)\nanswer.raise_for_status()\nprint(answer.json()["outputs"])\n`;
  const inputs = 'inputs' in request && Array.isArray(request.inputs) ? (request.inputs as TensorMetadata[]) : [];
  const arrays = inputs.map((input) => `"${input.name}": np.zeros(${pythonLiteral(input.shape)}, dtype=np.${numpyDtype(input.datatype)})`).join(', ');
  const sdk = `# PADDLE_CLOUD_URL=${origin.replace(/\/+$/, '')} and PADDLE_CLOUD_TOKEN=<an API token> in the environment\nimport numpy as np\nimport paddlecloud\n\noutputs = paddlecloud.predict("${instance.name}", {${arrays}})\nprint(outputs)\n`;
  return { curl, requests, sdk };
}

const NUMPY_DTYPES: Record<string, string> = {
  BOOL: 'bool_', INT8: 'int8', INT16: 'int16', INT32: 'int32', INT64: 'int64', UINT8: 'uint8', UINT16: 'uint16',
  UINT32: 'uint32', UINT64: 'uint64', FP16: 'float16', FP32: 'float32', FP64: 'float64', BYTES: 'object_',
};

export function numpyDtype(datatype: string): string {
  return NUMPY_DTYPES[datatype] ?? 'float32';
}

// ---- Charts -----------------------------------------------------------------------------------------

function line(metrics: ServingMetrics, key: string, label: string, color: string): Line {
  const series = metrics.series[key];
  const empty = new Array<number | null>(metrics.t.length).fill(null);
  return { key, label, color, values: series?.mean ?? empty, band: { min: series?.min ?? empty, max: series?.max ?? empty } };
}

function chart(metrics: ServingMetrics, spec: ChartModel['spec'], lines: Line[]): ChartModel {
  let points = 0;
  for (let i = 0; i < metrics.t.length; i++) if (lines.some((l) => l.values[i] !== null && l.values[i] !== undefined)) points++;
  return { spec, t: metrics.t, lines, marks: [], points };
}

/** The instance page's charts: requests per second, latency percentiles, errors per second. */
export function servingCharts(metrics: ServingMetrics): ChartModel[] {
  return [
    chart(metrics, { id: 'qps', title: 'Requests', about: 'requests per second through the gateway', format: formatQps }, [
      line(metrics, 'requests_per_s', 'Requests', podColor(0)),
    ]),
    chart(metrics, { id: 'latency', title: 'Latency', about: 'p50, p95 and p99 of the time the gateway waited for an answer', format: formatLatency }, [
      line(metrics, 'p50_ms', 'p50', podColor(2)),
      line(metrics, 'p95_ms', 'p95', podColor(3)),
      line(metrics, 'p99_ms', 'p99', podColor(6)),
    ]),
    chart(metrics, { id: 'errors', title: 'Errors', about: 'answers with an error status per second', format: (v) => (v === null ? '—' : `${decimals(v)}/s`) }, [
      line(metrics, 'errors_per_s', 'Errors', podColor(6)),
    ]),
  ];
}
