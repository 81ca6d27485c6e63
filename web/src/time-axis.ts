// The time charts' x axis: one line of local clock time per tick. uPlot's default puts the date
// under the first tick, centred on it, and the canvas cut its first characters off (12/7/26 read
// 2/7/26); a chart of the last hour needs no date.

/** Whole seconds and minutes between ticks (uPlot would also try fractions of a second). */
export const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/** Labels for ticks at `splits` (epoch seconds) `step` seconds apart: HH:MM, or HH:MM:SS under a minute. */
export function tickLabels(splits: readonly number[], step: number): string[] {
  const seconds = step < 60;
  return splits.map((t) =>
    new Date(t * 1000).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: seconds ? '2-digit' : undefined }),
  );
}
