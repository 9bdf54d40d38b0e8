// sshd refuses a session channel beyond MaxSessions (10 by default) per connection, and a refused
// channel fails the command for no reason of its own. Commands therefore take one of a bounded number of
// slots and wait, in order, for a free one instead of asking sshd for an eleventh channel.

export class ChannelSlots {
  private inUse = 0;
  private readonly waiting: Array<{ grant: () => void; refuse: (error: Error) => void }> = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`channel capacity must be an integer ≥ 1, got ${capacity}`);
  }

  /** Resolves with the function that gives the slot back (idempotent) once one is free. */
  acquire(): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        this.inUse++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.inUse--;
          this.waiting.shift()?.grant();
        });
      };
      if (this.inUse < this.capacity) grant();
      else this.waiting.push({ grant, refuse: reject });
    });
  }

  /** Fails every command still waiting (the connection was closed). */
  refuseWaiting(error: Error): void {
    for (const waiter of this.waiting.splice(0)) waiter.refuse(error);
  }

  get busy(): number {
    return this.inUse;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
