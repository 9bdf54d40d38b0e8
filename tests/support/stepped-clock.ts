// The wall clock, which a test can step forward as NTP or a resumed VM would: `now()` jumps at once,
// and what is armed with `at()` fires by the real timers at the stepped time. For end-to-end tests of
// things due days away (leases), where the manual clock would stall every other timer of the stack.
import type { Clock } from '../../adapters/clock/port.js';
import { systemClock } from '../../adapters/clock/system-clock.js';

export class SteppedClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  at(at: Date, fn: () => void): () => void {
    return systemClock.at(new Date(at.getTime() - this.offsetMs), fn);
  }

  /** Steps the clock forward by `ms` (what was armed before keeps its real deadline, at most a poll late). */
  step(ms: number): void {
    this.offsetMs += ms;
  }
}
