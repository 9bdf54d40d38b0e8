// Runs tasks one after another per key, in the order they were submitted. A domain must not see a
// stop overtake the start queued before it, while different domains go on in parallel.
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task holding any of `keys` has settled. */
  run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    // Registered synchronously for all keys at once, so two multi-key tasks cannot wait on each other.
    const before = unique.map((key) => this.tails.get(key) ?? Promise.resolve());
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const key of unique) this.tails.set(key, done);
    const result = Promise.all(before).then(task);
    const settle = (): void => {
      release();
      for (const key of unique) if (this.tails.get(key) === done) this.tails.delete(key);
    };
    result.then(settle, settle);
    return result;
  }
}
