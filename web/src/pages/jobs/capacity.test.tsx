import { afterEach, describe, expect, it } from 'vitest';
import type { Capacity, Resources } from '../../api/jobs';
import type { Mounted } from '../../test-utils';
import { fakeJobsApi, mount, type, USER } from '../../test-utils';
import { cpuMilli, fitOf, jobNeeds, memoryBytes } from './capacity';
import { EMPTY_JOB_FORM } from './spec';
import { SubmitJobPage } from './SubmitJobPage';

const res = (cpu_milli: number, memory_bytes: number, gpus = 0): Resources => ({ cpu: '', cpu_milli, memory: '', memory_bytes, gpus });
const CAPACITY: Capacity = { total: res(4000, 8 * 2 ** 30), in_use: res(2500, 2 ** 30), free: res(1500, 7 * 2 ** 30) };

describe('quantities', () => {
  it('reads CPU and memory as the server does', () => {
    expect(cpuMilli('2')).toBe(2000);
    expect(cpuMilli('0.5')).toBe(500);
    expect(cpuMilli('250m')).toBe(250);
    expect(cpuMilli('lots')).toBeNull();
    expect(memoryBytes('512Mi')).toBe(512 * 2 ** 20);
    expect(memoryBytes('1G')).toBe(1e9);
    expect(memoryBytes('64')).toBe(64);
    expect(memoryBytes('1Xi')).toBeNull();
  });

  it('adds up the job and compares it with what is free and what exists', () => {
    const form = { ...EMPTY_JOB_FORM, num_trainer: '2', cpu_per_trainer: '500m', mem_per_trainer: '1Gi', num_ps: '1', cpu_per_ps: '500m', mem_per_ps: '1Gi' };
    const need = jobNeeds(form)!;
    expect(need).toEqual({ cpu_milli: 1500, memory_bytes: 3 * 2 ** 30, gpus: 0 });
    expect(fitOf(need, CAPACITY)).toBe('now');
    expect(fitOf({ ...need, cpu_milli: 2000 }, CAPACITY)).toBe('waits');
    expect(fitOf({ ...need, gpus: 1 }, CAPACITY)).toBe('never');
    expect(jobNeeds({ ...form, cpu_per_trainer: 'x' })).toBeNull();
  });
});

describe('the submit form’s capacity line', () => {
  let page: Mounted;
  afterEach(() => page?.unmount());

  it('shows what is free and whether the job fits', async () => {
    const api = fakeJobsApi({ getCapacity: async () => CAPACITY });
    page = await mount(<SubmitJobPage user={USER} params={{}} api={api} />);
    expect(page.text('job-capacity-free')).toBe('Free now: 1.5 CPUs, 7.0 GiB memory, 0 GPUs');
    await type(page.byTestId<HTMLInputElement>('job-num_trainer'), '8');
    await type(page.byTestId<HTMLInputElement>('job-cpu_per_trainer'), '1');
    expect(page.byTestId('job-capacity')?.getAttribute('data-fit')).toBe('never');
    await type(page.byTestId<HTMLInputElement>('job-num_trainer'), '2');
    expect(page.byTestId('job-capacity')?.getAttribute('data-fit')).toBe('waits');
    expect(page.text('job-capacity-fit')).toMatch(/waits until running jobs end/);
  });

  it('leaves the line out when the capacity cannot be read', async () => {
    page = await mount(<SubmitJobPage user={USER} params={{}} api={fakeJobsApi()} />);
    expect(page.byTestId('job-capacity')).toBeNull();
  });
});
