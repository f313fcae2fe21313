import { describe, expect, it } from 'vitest';
import type { JobUsage } from '../../api/usage';
import { appendSample, pointsFor, rangeStart } from './series';

const T0 = 1_795_927_010_000;

function usage(): JobUsage {
  const s = (mean: Array<number | null>) => ({ min: mean, max: mean, mean });
  return {
    job: 1,
    state: 'Running',
    interval_ms: 5000,
    from: T0,
    to: T0 + 5000,
    bucket_ms: 5000,
    t: [T0, T0 + 5000],
    pods: [
      {
        name: 'j-1-trainer-0',
        role: 'trainer',
        phase: 'Running',
        requests: { cpu: 1, memory_bytes: 1, gpus: 0 },
        limits: { cpu: 1, memory_bytes: 1, gpus: 0 },
        metrics: { cpu_cores: s([0.5, 0.6]), oom_kills: s([0, 1]) },
        oom_kill_times: [T0 + 5000],
        not_measured: '',
      },
    ],
    job_total: { metrics: { cpu_cores: s([0.5, 0.6]) } },
    network: { metrics: {}, not_measured: '' },
  };
}

describe('perf series', () => {
  it('starts a range that long before the job’s end, never before its start', () => {
    const job = { started_at: T0 / 1000, submitted_at: T0 / 1000 - 5, finished_at: T0 / 1000 + 7_200 };
    expect(rangeStart('1h', job, 0)).toBe(T0 + 3_600_000);
    expect(rangeStart('6h', job, 0)).toBeUndefined();
    expect(rangeStart('all', job, 0)).toBeUndefined();
    expect(rangeStart('15m', { ...job, finished_at: null }, T0 + 3_600_000)).toBe(T0 + 45 * 60_000);
  });

  it('asks for about one point per pixel, within 50..5000', () => {
    expect(pointsFor(0)).toBe(500);
    expect(pointsFor(731.6)).toBe(732);
    expect(pointsFor(10)).toBe(50);
    expect(pointsFor(20_000)).toBe(5000);
  });

  it('appends a sample, pads a metric first seen, marks an OOM kill when the counter rises', () => {
    const next = appendSample(usage(), {
      t: T0 + 10_000,
      pods: { 'j-1-trainer-0': { cpu_cores: 0.7, oom_kills: 2, memory_working_set_bytes: 100 } },
      network: { network_rx_bytes_per_s: 10 },
    })!;
    expect(next.t).toEqual([T0, T0 + 5000, T0 + 10_000]);
    const pod = next.pods[0]!;
    expect(pod.metrics['cpu_cores']!.mean).toEqual([0.5, 0.6, 0.7]);
    expect(pod.metrics['memory_working_set_bytes']!.max).toEqual([null, null, 100]);
    expect(pod.oom_kill_times).toEqual([T0 + 5000, T0 + 10_000]);
    expect(next.job_total.metrics['cpu_cores']!.mean).toEqual([0.5, 0.6, 0.7]);
    expect(next.network.metrics['network_rx_bytes_per_s']!.mean).toEqual([null, null, 10]);
    // The same counter again is no new kill; a sample for an unknown pod asks for a reload (null).
    expect(appendSample(next, { t: T0 + 15_000, pods: { 'j-1-trainer-0': { oom_kills: 2 } } })!.pods[0]!.oom_kill_times).toHaveLength(2);
    expect(appendSample(next, { t: T0 + 15_000, pods: { 'j-1-trainer-9': {} } })).toBeNull();
    expect(appendSample(next, { t: T0 + 10_000, pods: {} })).toBe(next);
  });
});
