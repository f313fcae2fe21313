import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import type { JobSpec } from '../../api/jobs';
import type { Mounted } from '../../test-utils';
import { act } from 'preact/test-utils';
import { click, fakeJobsApi, flush, makeJob, mount, submit, type, USER } from '../../test-utils';
import { withoutFieldName } from '../../forms';
import { EMPTY_JOB_FORM, specFromForm, validateJobForm } from './spec';
import { SubmitJobPage } from './SubmitJobPage';

let page: Mounted;
beforeEach(() => {
  window.history.replaceState(null, '', '/jobs/new');
});
afterEach(() => page?.unmount());

const input = (id: string) => page.byTestId<HTMLInputElement>(id);

async function fillRequired() {
  await type(input('job-name'), 'mnist-dist');
  await type(page.byTestId<HTMLInputElement>('job-entry'), 'python3 train.py');
}

describe('SubmitJobPage', () => {
  it('sends the spec and opens the new job', async () => {
    let sent: JobSpec | undefined;
    const api = fakeJobsApi({
      submitJob: async (spec) => {
        sent = spec;
        return makeJob({ id: 42, name: spec.name });
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    expect(page.container.querySelector('[data-testid="crumb"]')?.getAttribute('href')).toBe('/dashboard');
    expect(page.text('crumb-current')).toBe('Submit a job');
    await fillRequired();
    await type(input('job-num_trainer'), '2');
    await type(input('job-cpu_per_trainer'), '100m');
    await type(input('job-mem_per_trainer'), '64Mi');
    await type(input('job-num_ps'), '1');
    await click(page.byTestId('job-env-add'));
    await type(input('job-env-key-0'), 'EPOCHS');
    await type(input('job-env-value-0'), '3');
    await submit(page.byTestId('job-form'));

    expect(sent).toEqual({
      name: 'mnist-dist',
      entry: 'python3 train.py',
      num_trainer: 2,
      cpu_per_trainer: '100m',
      mem_per_trainer: '64Mi',
      gpu_per_trainer: 0,
      num_ps: 1,
      cpu_per_ps: '1',
      mem_per_ps: '1Gi',
      env: { EPOCHS: '3' },
      max_restarts: 0,
      fault_tolerant: 0,
    });
    expect(window.location.pathname).toBe('/jobs/42');
  });

  it('shows the server’s error next to the field it names, not in the banner', async () => {
    const api = fakeJobsApi({
      submitJob: async () => {
        throw new ApiError(400, 'invalid_argument', "field 'mem_per_trainer' must be a memory quantity like \"512Mi\"", {
          field: 'mem_per_trainer',
        });
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await type(input('job-mem_per_trainer'), 'lots');
    await submit(page.byTestId('job-form'));
    await flush();

    expect(page.text('job-mem_per_trainer-error')).toBe('Must be a memory quantity like "512Mi".');
    expect(input('job-mem_per_trainer')?.getAttribute('aria-invalid')).toBe('true');
    expect(page.byTestId('job-form-error')).toBeNull();
    expect(window.location.pathname).toBe('/jobs/new');

    // Editing the field clears its error.
    await type(input('job-mem_per_trainer'), '512Mi');
    expect(page.byTestId('job-mem_per_trainer-error')).toBeNull();
  });

  it('puts an error about one environment variable on its row', async () => {
    const api = fakeJobsApi({
      submitJob: async () => {
        throw new ApiError(400, 'invalid_argument', "env name 'DATA' is not allowed", { field: 'env.DATA' });
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await click(page.byTestId('job-env-add'));
    await click(page.byTestId('job-env-add'));
    await type(input('job-env-key-0'), 'EPOCHS');
    await type(input('job-env-key-1'), 'DATA');
    await submit(page.byTestId('job-form'));
    await flush();
    expect(page.byTestId('job-env-error-0')).toBeNull();
    expect(page.text('job-env-error-1')).toBe("Env name 'DATA' is not allowed.");
  });

  it('shows an error that names no field in the banner', async () => {
    const api = fakeJobsApi({
      submitJob: async () => {
        throw new ApiError(409, 'already_exists', 'a job named mnist-dist is still running');
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await submit(page.byTestId('job-form'));
    await flush();
    expect(page.text('job-form-error-message')).toBe('A job named mnist-dist is still running.');
  });

  it('checks the name, the command and the counts before sending', async () => {
    const api = fakeJobsApi();
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await type(input('job-name'), 'MNIST');
    await type(input('job-num_trainer'), '0');
    await submit(page.byTestId('job-form'));
    expect(api.submitJob).not.toHaveBeenCalled();
    expect(page.text('job-name-error')).toBe("Use only lower-case letters, digits and '-': “MNIST” has upper-case letters (M, N, I, S, T). Try “mnist”.");
    expect(page.text('job-entry-error')).toMatch(/command every pod runs/);
    expect(page.text('job-num_trainer-error')).toBe('Enter a whole number from 1 to 256.');
  });

  it('starts from an earlier job’s spec with ?from=', async () => {
    window.history.replaceState(null, '', '/jobs/new?from=9');
    const api = fakeJobsApi({
      getJob: async () =>
        makeJob({
          id: 9,
          name: 'resnet',
          spec: { name: 'resnet', entry: 'python3 resnet.py', num_trainer: 4, mem_per_trainer: '2Gi', env: { LR: '0.1' } },
        }),
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    expect(input('job-name')?.value).toBe('resnet');
    expect(input('job-num_trainer')?.value).toBe('4');
    expect(input('job-mem_per_trainer')?.value).toBe('2Gi');
    expect(input('job-env-key-0')?.value).toBe('LR');
    expect(page.text('job-copied')).toMatch(/resnet/);
    expect(page.byTestId('job-code-from')).toBeNull();
  });

  it('runs the uploaded code of the earlier job again, unless told not to', async () => {
    window.history.replaceState(null, '', '/jobs/new?from=9');
    const sent: JobSpec[] = [];
    const api = fakeJobsApi({
      getJob: async () =>
        makeJob({ id: 9, name: 'fit', spec: { name: 'fit', entry: 'python3 train.py', package: 'pkg_abcdefghijklmnopqrst' } }),
      submitJob: async (spec) => {
        sent.push(spec);
        return makeJob({ id: 10, name: spec.name });
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    expect(page.text('job-code-from')).toMatch(/fit.*#9.*package pkg_abcdefghijklmnopqrst/);
    expect(input('job-workdir')).toBeNull();
    await submit(page.byTestId('job-form'));
    expect(sent[0]?.code_from_job).toBe(9);
    expect(sent[0]?.package).toBeUndefined();

    window.history.replaceState(null, '', '/jobs/new?from=9');
    page.unmount();
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await click(page.byTestId('job-code-from-clear'));
    await submit(page.byTestId('job-form'));
    expect(sent[1]?.code_from_job).toBeUndefined();
  });
});

describe('validateJobForm', () => {
  it('rejects reserved and repeated environment names and impossible fault tolerance', () => {
    const errors = validateJobForm({
      ...EMPTY_JOB_FORM,
      name: 'ok',
      entry: 'true',
      fault_tolerant: '1',
      env: [
        { key: 'PADDLE_PORT', value: '1' },
        { key: 'A', value: '1' },
        { key: 'A', value: '2' },
        { key: '', value: '' },
        { key: '', value: 'orphan' },
      ],
    });
    expect(errors).toEqual({
      fault_tolerant: 'Must be less than the number of trainers.',
      'env.PADDLE_PORT': 'The platform sets this variable.',
      'env#2': 'This variable is already set above.',
      'env#4': 'Name the variable.',
    });
  });

  it('leaves an empty working folder out of the spec', () => {
    expect(specFromForm({ ...EMPTY_JOB_FORM, name: 'a', entry: 'x' })).not.toHaveProperty('workdir');
    expect(specFromForm({ ...EMPTY_JOB_FORM, name: 'a', entry: 'x', workdir: ' data/in ' }).workdir).toBe('data/in');
  });
});

/** Chooses a folder in the Code section as <input webkitdirectory> reports it. */
async function chooseFolder(files: Record<string, string>) {
  const picker = input('job-package-input')!;
  const list = Object.entries(files).map(([relativePath, content]) => {
    const file = new File([content], relativePath.split('/').pop()!, { lastModified: 1_795_927_040_000 });
    Object.defineProperty(file, 'webkitRelativePath', { value: relativePath });
    return file;
  });
  Object.defineProperty(picker, 'files', { value: list, configurable: true });
  await act(async () => {
    picker.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await flush();
}

const FOLDER = {
  'fit_a_line/train.py': 'print("pass 0 cost 1")\n',
  'fit_a_line/run_local.sh': '#!/bin/sh\n',
  'fit_a_line/__pycache__/train.cpython-311.pyc': 'xx',
  'fit_a_line/.git/HEAD': 'ref: main\n',
};

describe('SubmitJobPage code upload', () => {
  it('uploads the chosen folder as a tar archive, then submits the job with the package', async () => {
    let sent: JobSpec | undefined;
    let archive: Blob | undefined;
    const api = fakeJobsApi({
      uploadPackage: async (blob, options) => {
        archive = blob;
        options?.onProgress?.(blob.size, blob.size);
        return { package: 'pkg_abc', files: 2, bytes: 33 };
      },
      submitJob: async (spec) => {
        sent = spec;
        return makeJob({ id: 7, name: spec.name });
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await type(input('job-workdir'), 'workspace/old');
    await chooseFolder(FOLDER);

    expect(page.byTestId('job-code-folder')?.textContent).toBe('fit_a_line');
    expect(page.byTestId('job-code-files')?.textContent).toBe('2 files');
    expect(page.byTestId('job-code-size')?.textContent).toBe('33 B');
    expect(page.byTestId('job-workdir')).toBeNull();

    await submit(page.byTestId('job-form'));
    expect(api.uploadPackage).toHaveBeenCalledTimes(1);
    const text = new TextDecoder().decode(await archive!.arrayBuffer());
    expect(text).toContain('train.py');
    expect(text).toContain('run_local.sh');
    expect(text).not.toContain('__pycache__');
    expect(text).not.toContain('.git');
    expect(archive!.size % 512).toBe(0);
    expect(sent?.package).toBe('pkg_abc');
    expect(sent).not.toHaveProperty('workdir');
    expect(window.location.pathname).toBe('/jobs/7');
  });

  it('shows an upload error in the Code section and submits nothing', async () => {
    const api = fakeJobsApi({
      uploadPackage: async () => {
        throw new ApiError(400, 'invalid_argument', "the package entry 'link' is not a regular file or folder", { field: 'package' });
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await chooseFolder(FOLDER);
    await submit(page.byTestId('job-form'));
    expect(page.byTestId('job-package-error')?.textContent).toMatch(/entry 'link' is not a regular file/);
    expect(api.submitJob).not.toHaveBeenCalled();
    expect(page.byTestId('job-form-error')).toBeNull();
  });

  it('names the limit for a 413', async () => {
    const api = fakeJobsApi({
      uploadPackage: async () => {
        throw new ApiError(413, 'payload_too_large', 'The server answered HTTP 413 Payload Too Large');
      },
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await chooseFolder(FOLDER);
    await submit(page.byTestId('job-form'));
    expect(page.byTestId('job-package-error')?.textContent).toMatch(/at most 1 GiB/);
  });

  it('shows progress and cancels the upload', async () => {
    let progress: ((sent: number, total: number) => void) | undefined;
    const api = fakeJobsApi({
      uploadPackage: (_blob, options) =>
        new Promise((_resolve, reject) => {
          progress = options?.onProgress;
          options?.signal?.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
        }),
    });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    await fillRequired();
    await chooseFolder(FOLDER);
    await submit(page.byTestId('job-form'));
    await act(async () => progress?.(1024, 4096));
    await flush();
    expect(page.byTestId<HTMLProgressElement>('job-upload-progress')?.getAttribute('value')).toBe('1024');
    expect(page.byTestId('job-upload')?.textContent).toContain('25%');
    await click(page.byTestId('job-upload-cancel'));
    expect(page.byTestId('job-upload')).toBeNull();
    expect(page.byTestId('job-upload-cancelled')).not.toBeNull();
    expect(api.submitJob).not.toHaveBeenCalled();
    expect(page.byTestId('job-form-error')).toBeNull();
  });
});

describe('withoutFieldName', () => {
  it('drops the field’s own name from the front of a server message', () => {
    expect(withoutFieldName("field 'mem_per_ps' must be at least 4Mi", 'mem_per_ps')).toBe('must be at least 4Mi');
    expect(withoutFieldName('mem_per_trainer: invalid memory quantity "lots"', 'mem_per_trainer')).toBe(
      'invalid memory quantity "lots"',
    );
    expect(withoutFieldName("env name 'X-Y' must be letters", 'env.X-Y')).toBe("env name 'X-Y' must be letters");
    expect(withoutFieldName('account ID is taken', 'account_id')).toBe('account ID is taken');
  });
});
