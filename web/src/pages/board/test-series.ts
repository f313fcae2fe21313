import type { DataSeries } from '../../api/board';

/** Wall time of step 0 in the test series. */
export const T0 = 1_796_000_000;

/** An exact series of the board API (one entry per point) for tests; `over` replaces any field. */
export function exactSeries(over: Partial<DataSeries> & { values: DataSeries['mean'] }): DataSeries {
  const { values, ...rest } = over;
  const step = rest.step ?? values.map((_, i) => i);
  return {
    source: 'job:12',
    curve: 'cost',
    pod: 'trainer-0',
    exact: true,
    bucket_steps: 1,
    step,
    min: values,
    max: values,
    mean: values,
    last: values,
    count: values.map((v) => (v === 'NaN' ? 0 : 1)),
    wall_time: step.map((s) => T0 + s),
    ...rest,
  };
}
