/** Percentiles of a set of durations, in the unit they were measured in. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** Runs `fn` `count` times and returns each run's duration in milliseconds. */
export function timeEach(count: number, fn: (i: number) => unknown): number[] {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    fn(i);
    samples.push(performance.now() - started);
  }
  return samples;
}
