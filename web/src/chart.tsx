import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { TICK_STEPS, tickLabels } from './time-axis.js';

export interface SeriesSpec {
  label: string;
  values: number[];
  stroke: string;
}

/** A small time chart (uPlot: canvas, ~45 kB, no runtime dependencies). */
export function TimeChart(props: { title: string; t: number[]; series: SeriesSpec[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: props.height ?? 160,
      series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, points: { show: false } }))],
      axes: [
        {
          space: 70,
          incrs: TICK_STEPS,
          values: (_u, splits, _axis, _space, step) => tickLabels(splits, step),
        },
        { size: 40 },
      ],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      // The caption carries the legend (totals, colours); uPlot's own would repeat it.
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
    };
    plot.current = new uPlot(opts, [props.t, ...props.series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: props.height ?? 160 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData([props.t, ...props.series.map((s) => s.values)]);
  }, [props.t, props.series]);

  const total = (label: string) => props.series.find((s) => s.label === label)?.values.reduce((a, b) => a + b, 0) ?? 0;
  return (
    <figure class="chart">
      <figcaption>
        <strong>{props.title}</strong>
        <span class="chart-totals">
          {props.series.map((s) => (
            <span key={s.label}>
              <span class="swatch" style={{ background: s.stroke }} aria-hidden="true" />
              {s.label} {total(s.label)}
            </span>
          ))}
        </span>
      </figcaption>
      <div
        ref={box}
        role="img"
        aria-label={`${props.title}: ${props.series.map((s) => `${s.label} ${total(s.label)}`).join(', ')} in the last hour`}
      />
    </figure>
  );
}
