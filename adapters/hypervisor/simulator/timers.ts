// Simulated delays. A delay of 0 goes through setImmediate rather than setTimeout, which Node clamps
// to 1 ms: a test or demo with thousands of zero-delay operations should not spend seconds sleeping.

/** Longer than this, Node would fire a timer after 1 ms (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2_147_483_647;

/** Calls `fn` after `ms` (never, beyond what a timer can hold); returns the cancel function. */
export function schedule(ms: number, fn: () => void): () => void {
  if (!(ms <= MAX_TIMER_MS)) return () => {};
  if (ms <= 0) {
    const handle = setImmediate(fn);
    return () => clearImmediate(handle);
  }
  const handle = setTimeout(fn, ms);
  return () => clearTimeout(handle);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    schedule(ms, resolve);
  });
}
