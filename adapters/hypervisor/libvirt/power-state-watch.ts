// Out-of-band power-state changes (CloudStack's power-state sync): a guest that powers itself off, a
// domain an operator destroyed by hand. libvirt's lifecycle events (`virsh event --loop`, streamed over
// SSH) say quickly that something happened; a periodic `virsh list --all` makes sure nothing is missed
// while the event stream is down (a dropped connection, a restarted libvirtd). Both only trigger a
// fresh read of every domain's state, which is compared with the last state known: a late event can
// therefore never report a state that no longer holds.
//
// The changes the driver itself makes are not news. While an operation on a domain runs, observations
// of that domain are ignored; when it ends, the driver settles the state it left the domain in, and a
// read that was under way at that moment is stale for that domain and ignored as well.
import type { PowerStateChange, PowerStateListener } from '../driver.js';
import type { PowerState } from '../protocol.js';
import type { LifecycleEvent, ListedDomain } from './virsh-output.js';

/** A running event stream. */
export interface EventStream {
  /** Settles when the stream ends, for whatever reason. */
  readonly exited: Promise<unknown>;
  stop(): void;
}

export interface PowerStateSource {
  /** Every domain the host has defined, with its state. */
  list(): Promise<ListedDomain[]>;
  /** Starts streaming lifecycle events. */
  events(onEvent: (event: LifecycleEvent) => void): EventStream;
}

export interface PowerStateWatchOptions {
  /** How often all states are read even without events. */
  readonly pollIntervalMs: number;
  /**
   * How long to wait before restarting an event stream that ended; doubled (up to 32×) while streams
   * keep ending soon after they start, so a host whose `virsh event` cannot run is not hammered.
   */
  readonly restartDelayMs: number;
  /** Problems with no caller to go to: a failed read, a listener that threw. */
  readonly onError: (error: unknown) => void;
}

export class PowerStateWatch {
  private readonly listeners = new Set<PowerStateListener>();
  /** The last state reported or settled per domain; absent means missing. */
  private readonly known = new Map<string, PowerState>();
  /** Domains whose next observed state is taken as is (after an operation that failed in an unknown way). */
  private readonly unsure = new Set<string>();
  /** Operations under way per domain. */
  private readonly busy = new Map<string, number>();
  /** Domains settled since the current read began: what that read saw of them may be older. */
  private readonly settledDuringRead = new Set<string>();
  private active = false;
  /** Domains seen by the first read of this watch period; until it is done, unknown ones are not news. */
  private baselined = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stream: EventStream | null = null;
  private restartDelayMs: number;
  private reading: Promise<void> | null = null;
  private readAgain = false;

  constructor(
    private readonly source: PowerStateSource,
    private readonly options: PowerStateWatchOptions,
  ) {
    this.restartDelayMs = options.restartDelayMs;
  }

  subscribe(listener: PowerStateListener): () => void {
    // A wrapper per subscription, so subscribing one function twice gives two independent subscriptions.
    const subscription: PowerStateListener = (change) => listener(change);
    this.listeners.add(subscription);
    if (!this.active) this.start();
    return () => {
      this.listeners.delete(subscription);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The driver starts changing `instanceName`: what is seen of it meanwhile is the driver's doing. */
  begin(instanceName: string): void {
    this.busy.set(instanceName, (this.busy.get(instanceName) ?? 0) + 1);
  }

  /** The driver is done with `instanceName` and left it `state` (null: unknown, take the next read as is). */
  settle(instanceName: string, state: PowerState | null): void {
    const remaining = (this.busy.get(instanceName) ?? 1) - 1;
    if (remaining > 0) this.busy.set(instanceName, remaining);
    else this.busy.delete(instanceName);
    this.settledDuringRead.add(instanceName);
    if (state === null) {
      this.unsure.add(instanceName);
      return;
    }
    this.unsure.delete(instanceName);
    if (state === 'missing') this.known.delete(instanceName);
    else this.known.set(instanceName, state);
  }

  /** Stops watching (the driver is closing). */
  close(): void {
    this.listeners.clear();
    this.stop();
  }

  // ---- watching ----

  private start(): void {
    this.active = true;
    this.baselined = false;
    this.restartDelayMs = this.options.restartDelayMs;
    this.startStream();
    this.refresh();
    this.pollTimer = setInterval(() => this.refresh(), this.options.pollIntervalMs);
    this.pollTimer.unref();
  }

  private stop(): void {
    this.active = false;
    clearInterval(this.pollTimer);
    clearTimeout(this.restartTimer);
    this.stream?.stop();
    this.stream = null;
  }

  private startStream(): void {
    let stream: EventStream;
    try {
      stream = this.source.events(() => this.refresh());
    } catch (error) {
      this.options.onError(error);
      this.scheduleRestart();
      return;
    }
    this.stream = stream;
    const startedAt = Date.now();
    const ended = (error?: unknown): void => {
      if (this.stream !== stream) return;
      this.stream = null;
      if (!this.active) return;
      if (error !== undefined) this.options.onError(error);
      const lastedMs = Date.now() - startedAt;
      this.restartDelayMs =
        lastedMs < 10 * this.options.restartDelayMs ? Math.min(this.restartDelayMs * 2, 32 * this.options.restartDelayMs) : this.options.restartDelayMs;
      this.scheduleRestart();
    };
    stream.exited.then(
      () => ended(),
      (error: unknown) => ended(error),
    );
  }

  private scheduleRestart(): void {
    if (!this.active) return;
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (!this.active) return;
      this.startStream();
      // Whatever happened while the stream was down.
      this.refresh();
    }, this.restartDelayMs);
    this.restartTimer.unref();
  }

  /** Reads all states; a request while a read runs makes one more read after it (reads never overlap). */
  private refresh(): void {
    if (!this.active) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.read()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.reading = null;
        if (this.readAgain && this.active) {
          this.readAgain = false;
          this.refresh();
        }
      });
  }

  private async read(): Promise<void> {
    this.settledDuringRead.clear();
    const listed = await this.source.list();
    if (!this.active) return;
    const seen = new Map<string, PowerState>(listed.map((domain) => [domain.instanceName, domain.powerState]));
    const firstRead = !this.baselined;
    this.baselined = true;
    for (const name of new Set([...seen.keys(), ...this.known.keys(), ...this.unsure])) {
      if (this.busy.has(name) || this.settledDuringRead.has(name)) continue;
      const now = seen.get(name) ?? 'missing';
      const before = this.known.get(name);
      if (now === 'missing') this.known.delete(name);
      else this.known.set(name, now);
      if (this.unsure.delete(name)) continue;
      // The first read of a watch period learns the domains it did not know; it reports only changes of
      // those the driver had settled (which it knows for sure).
      if (firstRead && before === undefined) continue;
      if (now !== (before ?? 'missing')) this.emit({ instanceName: name, powerState: now });
    }
  }

  private emit(change: PowerStateChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.options.onError(error);
      }
    }
  }
}
