import type { Clock } from './port.js';

// setTimeout takes at most 2^31-1 ms; a later deadline is re-armed when that wait ends.
const MAX_DELAY = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => new Date(),
  at(at, fn) {
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      const delay = at.getTime() - Date.now();
      if (delay <= 0) {
        timer = undefined;
        fn();
        return;
      }
      timer = setTimeout(arm, Math.min(delay, MAX_DELAY));
    };
    arm();
    return () => {
      if (timer) clearTimeout(timer);
    };
  },
};
