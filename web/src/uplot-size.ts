import type uPlot from 'uplot';

/**
 * Keeps a uPlot chart as wide as its element (at a fixed height) while the element resizes; returns
 * the cleanup that stops watching and destroys the chart.
 */
export function followWidth(plot: uPlot, element: HTMLElement, height: number): () => void {
  const resize =
    typeof ResizeObserver === 'undefined'
      ? undefined
      : new ResizeObserver(() => {
          if (element.clientWidth > 0) plot.setSize({ width: element.clientWidth, height });
        });
  resize?.observe(element);
  return () => {
    resize?.disconnect();
    plot.destroy();
  };
}
