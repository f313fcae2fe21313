// The last 30 days' CPU and GPU hours as bars: plain SVG (sizes are attributes, so the strict CSP
// needs no inline styles), each bar with its value as a tooltip, and the same numbers in a table for
// screen readers.
import type { VNode } from 'preact';
import type { DailyUsage } from '../../api/usage';
import { formatHours } from '../../format';

const WIDTH = 720;
const HEIGHT = 140;

/** Bar heights in px for `values` against `top` (the largest bar); a value above zero is at least 1 px. */
export function barHeights(values: number[], height: number, top: number): number[] {
  return values.map((v) => (v > 0 && top > 0 ? Math.max(1, (v / top) * height) : 0));
}

export function DailyChart({ days }: { days: DailyUsage[] }): VNode {
  const plot = HEIGHT - 1;
  const slot = WIDTH / Math.max(1, days.length);
  const bar = Math.max(1, slot / 2 - 2);
  // CPU and GPU hours on one scale, so their bars compare.
  const top = Math.max(0, ...days.flatMap((d) => [d.cpu_seconds, d.gpu_seconds]));
  const cpu = barHeights(days.map((d) => d.cpu_seconds), plot, top);
  const gpu = barHeights(days.map((d) => d.gpu_seconds), plot, top);
  const first = days[0]?.day ?? '';
  const last = days[days.length - 1]?.day ?? '';
  return (
    <figure class="daily-chart" aria-labelledby="daily-chart-title" data-testid="daily-chart">
      <figcaption class="daily-chart__caption">
        <h3 class="quota-subtitle" id="daily-chart-title">
          The last 30 days
        </h3>
        <span class="daily-chart__legend" aria-hidden="true">
          <span class="daily-chart__key daily-chart__key--cpu" /> CPU hours <span class="daily-chart__key daily-chart__key--gpu" /> GPU hours
        </span>
      </figcaption>
      <svg
        class="daily-chart__svg"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`CPU and GPU hours per day from ${first} to ${last}; the table below has the numbers.`}
        preserveAspectRatio="none"
      >
        <line class="daily-chart__axis" x1={0} y1={plot} x2={WIDTH} y2={plot} />
        {days.map((day, i) => (
          <g key={day.day} data-testid="daily-bar" data-day={day.day}>
            <rect class="daily-chart__bar daily-chart__bar--cpu" x={i * slot + 1} y={plot - cpu[i]!} width={bar} height={cpu[i]} data-testid="daily-bar-cpu">
              <title>{`${day.day}: ${formatHours(day.cpu_seconds)} CPU`}</title>
            </rect>
            <rect class="daily-chart__bar daily-chart__bar--gpu" x={i * slot + 1 + bar} y={plot - gpu[i]!} width={bar} height={gpu[i]} data-testid="daily-bar-gpu">
              <title>{`${day.day}: ${formatHours(day.gpu_seconds)} GPU`}</title>
            </rect>
          </g>
        ))}
      </svg>
      <p class="daily-chart__days" aria-hidden="true">
        <span>{first}</span>
        <span>{last}</span>
      </p>
      <table class="visually-hidden" data-testid="daily-table">
        <caption>CPU and GPU time per day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">CPU time</th>
            <th scope="col">GPU time</th>
          </tr>
        </thead>
        <tbody>
          {days.map((day) => (
            <tr key={day.day}>
              <th scope="row">{day.day}</th>
              <td>{formatHours(day.cpu_seconds)}</td>
              <td>{formatHours(day.gpu_seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
