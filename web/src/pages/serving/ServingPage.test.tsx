import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/client';
import type { ServingApi, ServingInstance } from '../../api/serving';
import type { Mounted } from '../../test-utils';
import { choose, click, mount, submit, type, USER } from '../../test-utils';
import { UploadQueue } from '../files/uploads';
import { LaunchDialog } from './LaunchDialog';
import { ServingPage } from './ServingPage';

function instance(over: Partial<ServingInstance> = {}): ServingInstance {
  return {
    name: 'fit',
    owner: USER.email,
    model: 'models/fit_a_line',
    runtime: 'onnx',
    command: '',
    model_file: 'model.onnx',
    resources: { cpu: 0.5, memory_bytes: 2 ** 28, gpus: 0 },
    replicas: { desired: 2, ready: 1 },
    public: false,
    state: 'degraded',
    reason: '',
    message: '',
    url: '/serving/ada-lab/fit',
    infer_url: '/serving/ada-lab/fit/v2/models/fit/infer',
    created_at: Date.now() / 1000 - 90,
    updated_at: Date.now() / 1000,
    replica_list: [],
    stats: { qps: 12.5, p50_ms: 0.8, p95_ms: 2.1, p99_ms: 3, error_rate: 0, in_flight: 1 },
    ...over,
  };
}

function fakeApi(overrides: Partial<ServingApi> = {}): ServingApi {
  const fail = () => Promise.reject(new Error('not expected in this test'));
  return {
    listInstances: async () => [],
    getInstance: fail,
    launchInstance: fail,
    setPublic: fail,
    scaleInstance: fail,
    deactivateInstance: fail,
    activateInstance: fail,
    deleteInstance: fail,
    getMetrics: fail,
    getReplicaLogRange: fail,
    callGateway: fail,
    ...overrides,
  };
}

const FILES = {
  getPath: vi.fn(async (path: string) => {
    if (path === 'models') {
      return {
        path: 'models', kind: 'folder' as const, writable: true, total: 2, next_cursor: null,
        entries: [
          { name: 'fit_a_line', path: 'models/fit_a_line', kind: 'folder', size: null, modified_at: 1, uploaded_by: null, content_type: null },
          { name: 'notes.txt', path: 'models/notes.txt', kind: 'file', size: 3, modified_at: 1, uploaded_by: null, content_type: null },
        ],
      };
    }
    return {
      path, kind: 'folder' as const, writable: true, total: 2, next_cursor: null,
      entries: [
        { name: 'model.onnx', path: `${path}/model.onnx`, kind: 'file', size: 300, modified_at: 1, uploaded_by: null, content_type: null },
        { name: 'README.md', path: `${path}/README.md`, kind: 'file', size: 3, modified_at: 1, uploaded_by: null, content_type: null },
      ],
    };
  }),
  listPublications: vi.fn(async () => []),
};

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

describe('ServingPage', () => {
  it('explains serving and offers Launch when there is no instance', async () => {
    page = await mount(<ServingPage params={{}} user={USER} api={fakeApi()} files={FILES} />);
    expect(page.text('serving-empty')).toMatch(/Open Inference Protocol/);
    await click(page.byTestId('serving-launch'));
    expect(document.querySelector('[data-testid="launch-dialog"]')).not.toBeNull();
  });

  it('lists an instance with its replicas, stats, URL and state', async () => {
    page = await mount(<ServingPage params={{}} user={USER} api={fakeApi({ listInstances: async () => [instance()] })} />);
    expect(page.text('serving-replicas')).toBe('1/2');
    expect(page.text('serving-qps')).toBe('12.5 req/s');
    expect(page.text('serving-p99')).toBe('3 ms');
    expect(page.text('serving-error-rate')).toBe('0%');
    expect(page.byTestId('serving-url')!.dataset['text']).toBe(`${window.location.origin}/serving/ada-lab/fit`);
    expect(page.text('serving-url')).toBe('/serving/ada-lab/fit');
    expect(page.byTestId('serving-state')!.dataset['state']).toBe('degraded');
    expect(page.text('serving-age')).toBe('1m');
  });
});

describe('LaunchDialog', () => {
  const mountDialog = async (api: Pick<ServingApi, 'launchInstance'>, onLaunched = vi.fn()) => {
    page = await mount(<LaunchDialog api={api} files={FILES} queue={new UploadQueue({} as never)} onLaunched={onLaunched} onCancel={vi.fn()} />);
    return page;
  };

  it('picks a model, finds its only .onnx, shows the split and sends the launch', async () => {
    const launchInstance = vi.fn(async () => instance());
    const onLaunched = vi.fn();
    const p = await mountDialog({ launchInstance }, onLaunched);
    await choose(p.byTestId('serving-model-choice'), 'models/fit_a_line');
    expect(p.byTestId<HTMLInputElement>('serving-name')!.value).toBe('fit-a-line');
    await vi.waitFor(() => expect(p.byTestId<HTMLInputElement>('serving-model_file')!.value).toBe('model.onnx'));
    await type(p.byTestId('serving-cpu_total'), '4');
    expect(p.text('serving-split')).toBe('4 CPUs = 4 replicas × 1 CPU');
    await submit(p.byTestId('launch-form'));
    expect(launchInstance).toHaveBeenCalledWith({
      name: 'fit-a-line', model: 'models/fit_a_line', runtime: 'onnx', model_file: 'model.onnx', replicas: 4, cpu: '1', memory: '1Gi', gpus: 0, public: false,
    });
    expect(onLaunched).toHaveBeenCalled();
  });

  it("shows the server's error on the field it names; replicas on the CPU in total", async () => {
    const errors = [
      new ApiError(409, 'conflict', "an instance named 'fit' exists", { field: 'name' }),
      new ApiError(403, 'quota_exceeded', 'replicas need 4 CPUs, 2 are left', { field: 'replicas' }),
    ];
    const p = await mountDialog({ launchInstance: async () => Promise.reject(errors.shift()) });
    await type(p.byTestId('serving-name'), 'fit');
    await type(p.byTestId('serving-model'), 'models/fit_a_line');
    await submit(p.byTestId('launch-form'));
    expect(p.text('serving-name-error')).toBe("An instance named 'fit' exists.");
    await submit(p.byTestId('launch-form'));
    expect(p.text('serving-cpu_total-error')).toBe('Replicas need 4 CPUs, 2 are left.');
  });

  it('checks the form before sending', async () => {
    const launchInstance = vi.fn();
    const p = await mountDialog({ launchInstance });
    await type(p.byTestId('serving-cpu_total'), '3');
    await type(p.byTestId('serving-cpu'), '2');
    await submit(p.byTestId('launch-form'));
    expect(launchInstance).not.toHaveBeenCalled();
    expect(p.text('serving-name-error')).toMatch(/lower-case/);
    expect(p.text('serving-model-error')).toMatch(/Choose a model/);
    expect(p.text('serving-cpu_total-error')).toBe('3 CPUs does not split into replicas of 2 CPUs.');
  });
});
