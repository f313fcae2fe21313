import { describe, expect, it } from 'vitest';
import type { DataSeries, GraphData } from '../../api/board';
import { boardExportUrl, boardStreamUrl, parseSourceId, sourceBoardPath } from '../../api/board';
import type { ChartInput } from './model';
import { exactSeries } from './test-series';
import {
  buildChart,
  clampSmoothing,
  decodeNumber,
  DEFAULT_SMOOTHING,
  firstWallTimes,
  middleHalf,
  formatValue,
  legendLabels,
  readout,
  readSettings,
  settingsSearch,
  smoothingParam,
  sourceLabels,
  stepRangeForX,
  touchesRange,
} from './model';

const exact = exactSeries;

function input(series: DataSeries[], over: Partial<ChartInput> = {}): ChartInput {
  return { data: { graph: 'cost', series }, x: 'step', y: 'linear', origins: {}, sourceNames: null, sources: [], ...over };
}

describe('decodeNumber', () => {
  it('reads numbers and the strings of the non-finite values', () => {
    expect(decodeNumber(0.25)).toBe(0.25);
    expect(decodeNumber('NaN')).toBeNaN();
    expect(decodeNumber('Infinity')).toBe(Infinity);
    expect(decodeNumber('-Infinity')).toBe(-Infinity);
    expect(decodeNumber('nonsense')).toBeNaN();
    expect(decodeNumber(null)).toBeNaN();
  });

  it('formats values with a float32’s precision and spells out the non-finite ones', () => {
    expect(formatValue(0.25)).toBe('0.25');
    expect(formatValue(0.1 + 0.2)).toBe('0.3');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(Infinity)).toBe('+∞');
    expect(formatValue(-Infinity)).toBe('−∞');
  });
});

describe('settings in the URL', () => {
  it('defaults to TensorBoard’s smoothing, the step axis and a linear scale', () => {
    expect(readSettings('')).toEqual({ sources: [], smoothing: DEFAULT_SMOOTHING, x: 'step', y: 'linear' });
  });

  it('reads repeated sources (valid and distinct only), smoothing and the axes', () => {
    const settings = readSettings('?source=job:12&source=run:4&source=job:12&source=bogus&source=job:0&smoothing=0.85&x=wall&y=log');
    expect(settings).toEqual({ sources: ['job:12', 'run:4'], smoothing: 0.85, x: 'wall', y: 'log' });
  });

  it('clamps the smoothing to 0..0.99 and ignores unknown axes', () => {
    expect(readSettings('?smoothing=1.5').smoothing).toBe(0.99);
    expect(readSettings('?smoothing=-1').smoothing).toBe(0);
    expect(readSettings('?smoothing=abc').smoothing).toBe(DEFAULT_SMOOTHING);
    expect(readSettings('?x=banana&y=cubic')).toMatchObject({ x: 'step', y: 'linear' });
    expect(clampSmoothing(0.123)).toBe(0.12);
  });

  it('writes the settings back, leaving the defaults out, and reads them again the same', () => {
    expect(settingsSearch(readSettings(''))).toBe('');
    const settings = { sources: ['job:12', 'run:4'], smoothing: 0, x: 'relative' as const, y: 'log' as const };
    const search = settingsSearch(settings);
    expect(search).toBe('?source=job%3A12&source=run%3A4&smoothing=0&x=relative&y=log');
    expect(readSettings(search)).toEqual(settings);
  });

  it('asks for no smoothing at 0 (the raw curve only)', () => {
    expect(smoothingParam(0)).toBeUndefined();
    expect(smoothingParam(0.6)).toBe(0.6);
    expect(smoothingParam(2)).toBe(0.99);
  });
});

describe('sources', () => {
  it('map to their API paths', () => {
    expect(parseSourceId('job:12')).toEqual({ kind: 'job', id: 12 });
    expect(parseSourceId('run:x')).toBeNull();
    expect(sourceBoardPath('job:12')).toBe('/api/v1/jobs/12/board');
    expect(sourceBoardPath('run:4')).toBe('/api/v1/board/runs/4/board');
    expect(boardExportUrl('run:4', 'csv')).toBe('/api/v1/board/runs/4/board/export?format=csv');
    expect(boardStreamUrl(['job:12', 'run:4'])).toBe('/api/v1/board/stream?source=job%3A12&source=run%3A4');
  });

  it('are told apart by their id when two share a name', () => {
    expect(sourceLabels(['job:1', 'job:2', 'run:3'], { 'job:1': 'fit', 'job:2': 'fit', 'run:3': 'sweep' })).toEqual({
      'job:1': 'fit (job:1)',
      'job:2': 'fit (job:2)',
      'run:3': 'sweep',
    });
    expect(sourceLabels(['job:9'], {})).toEqual({ 'job:9': 'job:9' });
  });
});

describe('legend labels', () => {
  it('are the curve names, with the pod when one curve comes from several pods', () => {
    const series = [
      { source: 'job:12', curve: 'cost', pod: 'trainer-0' },
      { source: 'job:12', curve: 'cost', pod: 'trainer-1' },
      { source: 'job:12', curve: 'acc', pod: 'trainer-0' },
    ];
    expect(legendLabels(series, null)).toEqual(['cost · trainer-0', 'cost · trainer-1', 'acc']);
  });

  it('name the source when comparing', () => {
    const series = [
      { source: 'job:12', curve: 'cost', pod: 'trainer-0' },
      { source: 'run:4', curve: 'cost', pod: '' },
    ];
    expect(legendLabels(series, { 'job:12': 'fit-a-line', 'run:4': 'lr-sweep' })).toEqual(['cost · fit-a-line', 'cost · lr-sweep']);
  });
});

describe('zoom', () => {
  const data: GraphData = {
    graph: 'cost',
    series: [
      { ...exact({ values: [1, 2, 3, 4] }), exact: false, bucket_steps: 10, step: [0, 10, 20, 30], wall_time: [100, 110, 120, 130] },
      { ...exact({ values: [5, 6], step: [0, 1] }), source: 'run:4', wall_time: [1000, 1050] },
    ],
  };

  it('on the step axis is the whole steps of the selection', () => {
    expect(stepRangeForX(data, 'step', {}, 4.2, 17.9)).toEqual({ from: 5, to: 17 });
    expect(stepRangeForX(data, 'step', {}, 4.2, 4.8)).toBeNull();
  });

  it('on wall time maps the times to steps through the loaded data, to the end of a bucket', () => {
    expect(stepRangeForX(data, 'wall', {}, 105, 121)).toEqual({ from: 10, to: 29 });
    expect(stepRangeForX(data, 'wall', {}, 131, 999)).toBeNull();
  });

  it('on relative time counts from each source’s first wall time', () => {
    const origins = { 'job:12': 100, 'run:4': 1000 };
    expect(firstWallTimes(data)).toEqual(origins);
    // 40..60 s: job:12's bucket at 120 s (steps 20..29) and run:4's point at 50 s (step 1).
    expect(stepRangeForX(data, 'relative', origins, 15, 25)).toEqual({ from: 20, to: 29 });
    expect(stepRangeForX(data, 'relative', origins, 45, 55)).toEqual({ from: 1, to: 1 });
  });

  it('zooms in on the middle half of the steps from the keyboard', () => {
    // job:12's buckets cover steps 0..39.
    expect(middleHalf(data)).toEqual({ from: 10, to: 29 });
    expect(middleHalf({ graph: 'cost', series: [exact({ values: [1, 2, 3] })] })).toBeNull();
    expect(middleHalf({ graph: 'cost', series: [] })).toBeNull();
  });

  it('is touched by live points inside it only', () => {
    expect(touchesRange([3, 40], { from: 10, to: 20 })).toBe(false);
    expect(touchesRange([3, 15], { from: 10, to: 20 })).toBe(true);
  });
});

describe('buildChart', () => {
  it('draws an exact series as one line, NaN as a gap and infinities as edge markers', () => {
    const model = buildChart(input([exact({ values: [0.5, 'NaN', 'Infinity', '-Infinity', 0.25] })]));
    expect(model.data).toEqual([
      [0, 1, 2, 3, 4],
      [0.5, null, null, null, 0.25],
    ]);
    expect(model.lines.map((line) => [line.label, line.role])).toEqual([['cost', 'raw']]);
    expect(model.bands).toEqual([]);
    expect(model.markers).toEqual([
      { x: 2, sign: 1, label: 'cost: +∞ at step 2' },
      { x: 3, sign: -1, label: 'cost: −∞ at step 3' },
    ]);
    expect(model.points).toBe(4);
  });

  it('draws a bucketed series with a min..max band behind its mean', () => {
    const series: DataSeries = { ...exact({ values: [1, 2] }), exact: false, bucket_steps: 100, step: [0, 100], min: [0.5, 1], max: [9, 'Infinity'], count: [100, 100] };
    const model = buildChart(input([series]));
    expect(model.lines.map((line) => line.role)).toEqual(['raw', 'min', 'max']);
    expect(model.data.slice(1)).toEqual([
      [1, 2],
      [0.5, 1],
      [9, null],
    ]);
    // uPlot bands: [upper, lower] series indices, x being 0.
    expect(model.bands).toEqual([[3, 2]]);
    expect(model.markers).toEqual([{ x: 100, sign: 1, label: 'cost: +∞ at step 100' }]);
    expect(model.points).toBe(200);
  });

  it('draws the smoothed curve bold and the raw curve faded', () => {
    const model = buildChart(input([exact({ values: [1, 3], smoothed: [1, 2.25] })]));
    expect(model.lines.map((line) => [line.role, line.width])).toEqual([
      ['raw', 1],
      ['smoothed', 2.5],
    ]);
    expect(model.lines[0]!.color).toBe(`${model.lines[1]!.color}66`);
    expect(model.data[2]).toEqual([1, 2.25]);
  });

  it('aligns series with different steps on one x, spanning where a series has no entry', () => {
    const a = exact({ values: [1, 2], step: [0, 2] });
    const b = exact({ values: [3, 4], step: [1, 2], pod: 'trainer-1' });
    const model = buildChart(input([a, b]));
    expect(model.data).toEqual([
      [0, 1, 2],
      [1, undefined, 2],
      [undefined, 3, 4],
    ]);
    expect(model.entries).toEqual([
      [0, -1, 1],
      [-1, 0, 1],
    ]);
  });

  it('leaves values ≤ 0 out of a log scale and counts them', () => {
    const model = buildChart(input([exact({ values: [1, 0, -2, 4] })], { y: 'log' }));
    expect(model.data[1]).toEqual([1, null, null, 4]);
    expect(model.leftOut).toBe(2);
  });

  it('puts time on x: wall time, or the time since the source’s first point', () => {
    const series = exact({ values: [1, 2], wall_time: [1000.5, 1003.5] });
    expect(buildChart(input([series], { x: 'wall' })).data[0]).toEqual([1000.5, 1003.5]);
    expect(buildChart(input([series], { x: 'relative', origins: { 'job:12': 1000.5 } })).data[0]).toEqual([0, 3]);
  });

  it('gives each compared source one colour', () => {
    const a = exact({ values: [1] });
    const b = exact({ values: [1], curve: 'acc' });
    const c = { ...exact({ values: [2] }), source: 'run:4' };
    const compared = buildChart(input([a, b, c], { sourceNames: { 'job:12': 'fit', 'run:4': 'sweep' }, sources: ['job:12', 'run:4'] }));
    const colors = compared.lines.map((line) => line.color);
    expect(colors[0]).toBe(colors[1]);
    expect(colors[2]).not.toBe(colors[0]);
    expect(compared.lines[1]!.dash).toEqual([6, 3]);
    expect(compared.lines.map((line) => line.label)).toEqual(['cost · fit', 'acc · fit', 'cost · sweep']);
    const single = buildChart(input([a, b]));
    expect(single.lines[0]!.color).not.toBe(single.lines[1]!.color);
  });

  it('reads out the exact values under the cursor', () => {
    const bucketed: DataSeries = { ...exact({ values: [1.5], smoothed: [1.25] }), exact: false, bucket_steps: 10, min: [1], max: ['Infinity'], count: [10] };
    const data = { graph: 'cost', series: [bucketed] };
    const model = buildChart({ ...input([]), data });
    expect(readout(model, data, 'step', 0)).toBe('step 0 · cost 1.5 (min 1, max +∞, 10 points), cost (smoothed) 1.25');
    expect(readout(model, data, 'step', null)).toBe('');
  });
});
