// Host liveness from agent heartbeats (CloudStack's ping): a host whose agent has not been heard of for
// `ping.interval` × `ping.timeout` seconds becomes Disconnected, so the planner stops choosing it; its
// next heartbeat brings it back Up. Only hosts driven by agents of their own are watched: a simulated
// host is served inside this process and lives exactly as long as it does.
import type { Database } from 'better-sqlite3';
import type { Clock } from '../adapters/clock/port.js';
import { unlessRefused, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import { effectiveSetting } from '../domain/config/index.js';
import { hostDecider, hostStream, type HostStatus } from '../domain/host/index.js';
import { settingsSnapshot } from '../projections/configuration/index.js';
import { watchedHostStatus, watchedHostsUp } from '../projections/infrastructure/index.js';

export interface HostLivenessOptions {
  readonly commander: Commander;
  readonly clock: Clock;
  readonly readModel: () => Database;
  readonly onError?: (error: unknown) => void;
}

const ACTOR: CommandEnvelope['actor'] = { kind: 'system', component: 'host-liveness' };

export class HostLiveness {
  /** Host id → when its agent was last heard of. Not kept across restarts: a restart gives every host a full timeout. */
  private readonly lastHeard = new Map<string, number>();
  private readonly startedAt: number;
  private cancel: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: HostLivenessOptions) {
    this.startedAt = options.clock.now().getTime();
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }

  /** A heartbeat: the host is alive now. */
  async heard(hostId: string): Promise<void> {
    const status = watchedHostStatus(this.options.readModel(), hostId);
    // A heartbeat for a host that is not watched (unknown, removed, simulated) is not remembered.
    if (!status) return;
    this.lastHeard.set(hostId, this.options.clock.now().getTime());
    if (status !== 'Up') await this.report(hostId, 'Up');
  }

  /** Marks Disconnected every watched Up host not heard of within the timeout; returns their ids. */
  async check(): Promise<string[]> {
    const db = this.options.readModel();
    const now = this.options.clock.now().getTime();
    const timeoutMs = this.timeoutMs(db);
    const silent = watchedHostsUp(db).filter((id) => now - (this.lastHeard.get(id) ?? this.startedAt) > timeoutMs);
    for (const hostId of silent) await this.report(hostId, 'Disconnected');
    return silent;
  }

  private timeoutMs(db: Database): number {
    const global = settingsSnapshot(db).global;
    return effectiveSetting('ping.interval', global) * effectiveSetting('ping.timeout', global) * 1000;
  }

  private schedule(): void {
    if (this.stopped) return;
    const intervalMs = effectiveSetting('ping.interval', settingsSnapshot(this.options.readModel()).global) * 1000;
    this.cancel = this.options.clock.at(new Date(this.options.clock.now().getTime() + intervalMs), () => {
      void this.check()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.schedule());
    });
  }

  private async report(hostId: string, status: HostStatus): Promise<void> {
    const at = this.options.clock.now().toISOString();
    // A host removed meanwhile has no status to keep.
    await unlessRefused(
      this.options.commander.execute(hostStream(hostId), hostDecider, { type: 'ReportHostStatus', status }, { actor: ACTOR, correlationId: hostStream(hostId), occurredAt: at }),
    );
  }
}
