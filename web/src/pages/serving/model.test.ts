import { describe, expect, it } from 'vitest';
import type { ServingMetrics } from '../../api/serving';
import type { LaunchForm } from './model';
import {
  checkLaunch,
  clientSnippets,
  cpuText,
  defaultModelFile,
  formatErrorRate,
  formatLatency,
  formatQps,
  launchBody,
  podPhaseOf,
  replicaResourcesText,
  resourceSplit,
  servingCharts,
  suggestedName,
  zeroRequest,
} from './model';

const FORM: LaunchForm = {
  name: 'fit',
  model: 'models/fit_a_line',
  runtime: 'onnx',
  model_file: '',
  model_py: '',
  command: '',
  cpu_total: '2',
  cpu: '1',
  memory: '512Mi',
  gpus: '0',
  public: false,
};

describe('resourceSplit', () => {
  it('says how the CPU in total splits into replicas', () => {
    expect(resourceSplit('4', '1')).toEqual({ replicas: 4, text: '4 CPUs = 4 replicas × 1 CPU' });
    expect(resourceSplit('1', '500m')).toEqual({ replicas: 2, text: '1 CPU = 2 replicas × 0.5 CPU' });
    expect(resourceSplit('0.5', '0.5')).toEqual({ replicas: 1, text: '0.5 CPU = 1 replica × 0.5 CPU' });
  });

  it('names the field that is wrong', () => {
    expect(resourceSplit('3', '2')).toEqual({ error: '3 CPUs does not split into replicas of 2 CPUs.', field: 'cpu_total' });
    expect(resourceSplit('2', 'lots')).toMatchObject({ field: 'cpu' });
    expect(resourceSplit('', '1')).toMatchObject({ field: 'cpu_total' });
    expect(resourceSplit('65', '1')).toMatchObject({ field: 'cpu_total', error: 'That is 65 replicas; at most 64.' });
    expect(resourceSplit('2', '0')).toMatchObject({ field: 'cpu' });
  });

  it('writes CPUs for people', () => {
    expect(cpuText(1000)).toBe('1 CPU');
    expect(cpuText(250)).toBe('0.25 CPU');
    expect(cpuText(1500)).toBe('1.5 CPUs');
  });
});

describe('the launch form', () => {
  it('accepts a good form and sends the replicas and the size of one', () => {
    expect(checkLaunch(FORM)).toEqual({});
    expect(launchBody(FORM)).toEqual({ name: 'fit', model: 'models/fit_a_line', runtime: 'onnx', replicas: 2, cpu: '1', memory: '512Mi', gpus: 0, public: false });
  });

  it('sends what the runtime needs and nothing of the others', () => {
    expect(launchBody({ ...FORM, model_file: 'm.onnx', model_py: 'x', command: 'y' })).toMatchObject({ model_file: 'm.onnx' });
    const python = launchBody({ ...FORM, runtime: 'python', model_file: 'm.onnx', model_py: 'INPUTS = []\n', command: 'y' });
    expect(python.model_py).toBe('INPUTS = []\n');
    expect(python.model_file).toBeUndefined();
    expect(python.command).toBeUndefined();
    const command = launchBody({ ...FORM, runtime: 'command', command: ' python3 serve.py ' });
    expect(command.command).toBe('python3 serve.py');
    expect(command.model_py).toBeUndefined();
  });

  it('names each wrong field', () => {
    const errors = checkLaunch({ ...FORM, name: 'Fit_A', model: ' ', cpu_total: '3', cpu: '2', memory: 'much', gpus: '-1' });
    expect(Object.keys(errors).sort()).toEqual(['cpu_total', 'gpus', 'memory', 'model', 'name']);
    expect(checkLaunch({ ...FORM, runtime: 'python' })).toHaveProperty('model_py');
    expect(checkLaunch({ ...FORM, runtime: 'command' })).toHaveProperty('command');
    expect(checkLaunch({ ...FORM, model_file: 'weights.bin' })).toHaveProperty('model_file');
    expect(checkLaunch({ ...FORM, name: 'a'.repeat(41) })).toHaveProperty('name');
    expect(checkLaunch({ ...FORM, name: 'a'.repeat(40) })).toEqual({});
  });

  it('defaults the model file to the only .onnx and suggests a name from the path', () => {
    expect(defaultModelFile(['README.md', 'model.onnx', 'model.py'])).toBe('model.onnx');
    expect(defaultModelFile(['a.onnx', 'b.ONNX'])).toBe('');
    expect(defaultModelFile([])).toBe('');
    expect(suggestedName('models/fit_a_line.tar.gz')).toBe('fit-a-line');
    expect(suggestedName('public/models/acme/ResNet/1.0')).toBe('1-0');
    expect(suggestedName('models/My Model.onnx')).toBe('my-model');
  });
});

describe('try it', () => {
  it('builds zero tensors of the declared shapes, -1 taken as 1', () => {
    const request = zeroRequest({
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 13] },
        { name: 'mask', datatype: 'BOOL', shape: [2] },
        { name: 'words', datatype: 'BYTES', shape: [-1] },
        { name: 'scalar', datatype: 'INT64', shape: [] },
      ],
    });
    expect(request.inputs.map((i) => i.shape)).toEqual([[1, 13], [2], [1], []]);
    expect(request.inputs[0]!.data).toEqual(new Array(13).fill(0));
    expect(request.inputs[1]!.data).toEqual([false, false]);
    expect(request.inputs[2]!.data).toEqual(['']);
    expect(request.inputs[3]!.data).toEqual([0]);
  });

  it('writes curl, requests and SDK snippets with the real URL, the token only when needed', () => {
    const instance = { name: 'fit', url: '/serving/acme/fit', infer_url: '/serving/acme/fit/v2/models/fit/infer', public: false };
    const request = { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [0, 0] }] };
    const s = clientSnippets('http://127.0.0.1:8080/', instance, request);
    expect(s.curl).toContain('curl -s http://127.0.0.1:8080/serving/acme/fit/v2/models/fit/infer');
    expect(s.curl).toContain('Authorization: Bearer $PADDLE_CLOUD_TOKEN');
    expect(s.curl).toContain(`-d '${JSON.stringify(request)}'`);
    expect(s.requests).toContain('"http://127.0.0.1:8080/serving/acme/fit/v2/models/fit/infer"');
    expect(s.requests).toContain('os.environ["PADDLE_CLOUD_TOKEN"]');
    expect(s.sdk).toContain('paddlecloud.predict("fit", {"x": np.zeros([1,2], dtype=np.float32)})');
    const open = clientSnippets('http://h', { ...instance, public: true }, { inputs: [{ name: 'b', shape: [1], datatype: 'BOOL', data: [true] }] });
    expect(open.curl).not.toContain('Authorization');
    expect(open.requests).not.toContain('PADDLE_CLOUD_TOKEN');
    expect(open.requests).toContain('"data":[True]');
  });

  it("quotes a ' in the curl body for the shell", () => {
    const s = clientSnippets('http://h', { name: 'n', url: '/serving/a/n', infer_url: '/serving/a/n/v2/models/n/infer', public: true }, { id: "it's" });
    expect(s.curl).toContain(`-d '{"id":"it'\\''s"}'`);
  });
});

describe('stats and charts', () => {
  it("says a replica's resources whether the server gives cores or a quantity", () => {
    const size = (bytes: number) => `${bytes / 2 ** 20} MiB`;
    expect(replicaResourcesText({ cpu: '500m', cpu_milli: 500, memory_bytes: 2 ** 28, gpus: 0 }, size)).toBe('0.5 CPU, 256 MiB memory, 0 GPUs');
    expect(replicaResourcesText({ cpu: 2, memory_bytes: 2 ** 30, gpus: 1 }, size)).toBe('2 CPUs, 1024 MiB memory, 1 GPU');
    expect(replicaResourcesText({ cpu: '250m', memory_bytes: 2 ** 20, gpus: 2 }, size)).toBe('0.25 CPU, 1 MiB memory, 2 GPUs');
    expect(podPhaseOf('Ready')).toBe('Running');
    expect(podPhaseOf('Starting')).toBe('Pending');
    expect(podPhaseOf('Failed')).toBe('Failed');
  });

  it('formats the stats, a dash without requests', () => {
    expect(formatQps(12.5)).toBe('12.5 req/s');
    expect(formatQps(null)).toBe('—');
    expect(formatLatency(0.823)).toBe('0.82 ms');
    expect(formatLatency(1250)).toBe('1.25 s');
    expect(formatLatency(undefined)).toBe('—');
    expect(formatErrorRate(0)).toBe('0%');
    expect(formatErrorRate(0.012)).toBe('1.2%');
    expect(formatErrorRate(null)).toBe('—');
  });

  it('draws requests, latency percentiles and errors from the metrics', () => {
    const metrics: ServingMetrics = {
      from: 0,
      to: 3000,
      bucket_ms: 1000,
      t: [1000, 2000, 3000],
      series: {
        requests_per_s: { min: [1, 2, null], max: [1, 4, null], mean: [1, 3, null] },
        p50_ms: { min: [0.5, 0.5, null], max: [1, 1, null], mean: [0.7, 0.8, null] },
        p99_ms: { min: [2, 2, null], max: [3, 3, null], mean: [2.5, 2.5, null] },
      },
    };
    const [qps, latency, errors] = servingCharts(metrics);
    expect(qps!.spec.id).toBe('qps');
    expect(qps!.lines[0]!.values).toEqual([1, 3, null]);
    expect(qps!.points).toBe(2);
    expect(latency!.lines.map((l) => l.label)).toEqual(['p50', 'p95', 'p99']);
    expect(latency!.lines[1]!.values).toEqual([null, null, null]);
    expect(errors!.points).toBe(0);
  });
});
