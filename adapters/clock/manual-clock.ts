import type { Clock } from './port.js';

/** A clock that moves only when told to: for tests of timeouts, expunge delays and schedules. */
export class ManualClock implements Clock {
  private current: number;
  private timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];

  constructor(start: Date) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  at(at: Date, fn: () => void): () => void {
    const timer = { at: at.getTime(), fn, cancelled: false };
    this.timers.push(timer);
    if (timer.at <= this.current) queueMicrotask(() => this.fire());
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves time forward and fires every timer that has come due, in order. */
  advance(ms: number): void {
    this.current += ms;
    this.fire();
  }

  private fire(): void {
    const due = this.timers.filter((t) => t.at <= this.current && !t.cancelled).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.current && !t.cancelled);
    for (const timer of due) timer.fn();
  }
}
