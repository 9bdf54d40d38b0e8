// Time, injected: the domain and the sagas never read the system clock themselves, so tests can
// move time and timers can be rebuilt from the log after a restart.
export interface Clock {
  now(): Date;
  /** Calls `fn` once at or after `at`; returns a cancel function. */
  at(at: Date, fn: () => void): () => void;
}
