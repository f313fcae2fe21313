// What the submit form says about room on the cluster: free CPU, memory and GPUs now, and whether
// the job being filled in fits now, has to wait, or can never run.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Capacity, JobsApi } from '../../api/jobs';
import { isAbort } from '../../forms';
import { formatBytes } from './tar';
import type { JobForm } from './spec';

/** How often the free capacity is read again while the form is open. */
export const CAPACITY_REFRESH_MS = 5_000;

/** Millicores of a CPU quantity ("2", "0.5", "500m"); null when it is not one. */
export function cpuMilli(quantity: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (!m) return null;
  const value = Number(m[1]);
  return Math.round(m[2] === 'm' ? value : value * 1000);
}

const MEMORY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
};

/** Bytes of a memory quantity ("512Mi", "1G", "1024"); null when it is not one. */
export function memoryBytes(quantity: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([kKMGT]i?|)$/.exec(quantity.trim());
  const unit = m ? MEMORY_UNITS[m[2] ?? ''] : undefined;
  return m && unit !== undefined ? Math.round(Number(m[1]) * unit) : null;
}

const cpus = (milli: number) => `${Number((milli / 1000).toFixed(2))} CPU${milli === 1000 ? '' : 's'}`;

/** What the form asks for in all (null when a field is not a quantity yet). */
export function jobNeeds(form: JobForm): { cpu_milli: number; memory_bytes: number; gpus: number } | null {
  const trainers = Number(form.num_trainer);
  const pservers = Number(form.num_ps);
  const [tc, tm, pc, pm] = [cpuMilli(form.cpu_per_trainer), memoryBytes(form.mem_per_trainer), cpuMilli(form.cpu_per_ps), memoryBytes(form.mem_per_ps)];
  if (!Number.isInteger(trainers) || !Number.isInteger(pservers) || tc === null || tm === null) return null;
  if (pservers > 0 && (pc === null || pm === null)) return null;
  return {
    cpu_milli: trainers * tc + pservers * (pc ?? 0),
    memory_bytes: trainers * tm + pservers * (pm ?? 0),
    gpus: trainers * (Number(form.gpu_per_trainer) || 0),
  };
}

/** "starts now", "waits" or "never" for a job needing `need` on a cluster with `capacity`. */
export function fitOf(need: NonNullable<ReturnType<typeof jobNeeds>>, capacity: Capacity): 'now' | 'waits' | 'never' {
  const keys = ['cpu_milli', 'memory_bytes', 'gpus'] as const;
  if (keys.some((k) => need[k] > capacity.total[k])) return 'never';
  return keys.some((k) => need[k] > capacity.free[k]) ? 'waits' : 'now';
}

const FIT_TEXT = {
  now: 'fits in what is free: it starts at once.',
  waits: 'is more than is free now: it waits until running jobs end.',
  never: 'is more than the cluster has: it would never run.',
};

/** The free capacity, read now and every CAPACITY_REFRESH_MS while the form is open. */
export function CapacityNote({ api, form }: { api: Pick<JobsApi, 'getCapacity'>; form: JobForm }): VNode | null {
  const [capacity, setCapacity] = useState<Capacity | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const read = () =>
      api.getCapacity({ signal: controller.signal }).then(setCapacity, (err: unknown) => {
        if (!isAbort(err)) setCapacity(null); // the form works without it
      });
    void read();
    const timer = window.setInterval(() => void read(), CAPACITY_REFRESH_MS);
    return () => {
      controller.abort();
      window.clearInterval(timer);
    };
  }, [api]);
  if (!capacity) return null;
  const need = jobNeeds(form);
  const fit = need ? fitOf(need, capacity) : null;
  const { free, total } = capacity;
  return (
    <p class={`capacity-note${fit === 'never' ? ' capacity-note--bad' : ''}`} data-testid="job-capacity" data-fit={fit ?? ''} role="status">
      <span data-testid="job-capacity-free">
        Free now: {cpus(free.cpu_milli)}, {formatBytes(free.memory_bytes)} memory, {free.gpus} GPU{free.gpus === 1 ? '' : 's'}
      </span>{' '}
      (of {cpus(total.cpu_milli)}, {formatBytes(total.memory_bytes)}, {total.gpus} GPU{total.gpus === 1 ? '' : 's'}).
      {need && fit && (
        <span data-testid="job-capacity-fit">
          {' '}
          This job ({cpus(need.cpu_milli)}, {formatBytes(need.memory_bytes)}
          {need.gpus > 0 ? `, ${need.gpus} GPU${need.gpus === 1 ? '' : 's'}` : ''}) {FIT_TEXT[fit]}
        </span>
      )}
    </p>
  );
}
