// The agent's report side: what the hosts see on their own, told to the orchestrator. A power-state
// change nobody asked for is reported at once; heartbeats (the host's resources) and full
// power-state syncs (CloudStack's power-state sync) go out at once on start and then every interval.
import type { Bus } from '../bus/port.js';
import type { HypervisorDriver } from './driver.js';
import { ORCHESTRATOR_REPORTS, toBusMessage, type AgentReport, type PowerStateReport } from './protocol.js';

/**
 * Domains per power-state report: a host's full sync goes out in reports of at most this many, each
 * well under the bus's message limit (a domain's entry is under 100 bytes), so a host with tens of
 * thousands of defined domains still syncs. Each report stands alone: the orchestrator reads what
 * a report names and infers nothing from what it leaves out.
 */
export const POWER_REPORT_DOMAINS = 2_000;

/** A host's power states seen at `at`, as reports of at most POWER_REPORT_DOMAINS domains (one, when there are none). */
export function powerStateReports(hostId: string, at: string, domains: PowerStateReport['domains']): PowerStateReport[] {
  const reports: PowerStateReport[] = [];
  for (let start = 0; start === 0 || start < domains.length; start += POWER_REPORT_DOMAINS) {
    reports.push({ type: 'PowerStateReport', hostId, at, domains: domains.slice(start, start + POWER_REPORT_DOMAINS) });
  }
  return reports;
}

export interface ReportChainsOptions {
  readonly bus: Bus;
  /** Ids of reports, which are never redelivered as the same logical message. */
  readonly newId: () => string;
  readonly onError: (error: unknown, context: string) => void;
}

/** Reports of one host go out in the order they were taken, so a change is not overtaken by an older sync. */
export class ReportChains {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly underWay = new Set<Promise<void>>();

  constructor(private readonly options: ReportChainsOptions) {}

  /** Builds the report (or reports) after the host's earlier ones and publishes it; a failure goes to onError under `context`. */
  publish(hostId: string, context: string, build: () => Promise<AgentReport | readonly AgentReport[]>): Promise<void> {
    const { bus, newId, onError } = this.options;
    const previous = this.chains.get(hostId) ?? Promise.resolve();
    const next = previous
      .then(async () => {
        const built = await build();
        for (const report of Array.isArray(built) ? built : [built]) await bus.publish(ORCHESTRATOR_REPORTS, toBusMessage(newId(), report));
      })
      .catch((error: unknown) => onError(error, `${context} for host ${hostId}`));
    this.chains.set(hostId, next);
    this.underWay.add(next);
    void next.finally(() => {
      this.underWay.delete(next);
      if (this.chains.get(hostId) === next) this.chains.delete(hostId);
    });
    return next;
  }

  /** Resolves once every report taken so far is out (or has failed). */
  async drain(): Promise<void> {
    while (this.underWay.size > 0) await Promise.allSettled([...this.underWay]);
  }
}

export interface HostWatchOptions {
  readonly clock: () => Date;
  readonly heartbeatIntervalMs: number;
  readonly powerSyncIntervalMs: number;
}

/** Runs `tick` now and every `intervalMs`, skipping a tick while the previous one is still out. Returns the stop. */
function every(intervalMs: number, tick: () => Promise<void>): () => void {
  let busy = false;
  let stopped = false;
  const run = (): void => {
    if (busy || stopped) return;
    busy = true;
    void tick().finally(() => {
      busy = false;
    });
  };
  const timer = setInterval(run, intervalMs);
  run();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** Reports the host's power-state changes, heartbeats and power-state syncs until the returned stop is called. */
export function watchHost(hostId: string, driver: HypervisorDriver, reports: ReportChains, options: HostWatchOptions): () => void {
  const { clock } = options;
  let stopped = false;
  // A power report says when its power states were seen, never later: the orchestrator ignores one
  // taken before a job settled the instance, so a report must not pass for newer than it is. A
  // change is stamped when it happened (not when its turn in the chain comes), a sync before it lists.
  const unsubscribe = driver.onPowerStateChange((change) => {
    if (stopped) return;
    const at = clock().toISOString();
    void reports.publish(hostId, 'reporting a power-state change', async () => ({
      type: 'PowerStateReport',
      hostId,
      at,
      domains: [{ instanceName: change.instanceName, powerState: change.powerState }],
    }));
  });
  const stopHeartbeats = every(options.heartbeatIntervalMs, () =>
    reports.publish(hostId, 'sending a heartbeat', async () => {
      const info = await driver.hostInfo();
      return {
        type: 'HostHeartbeat',
        hostId,
        at: clock().toISOString(),
        cpuNumber: info.cpuNumber,
        cpuSpeed: info.cpuSpeed,
        memory: info.memory,
        capabilities: info.capabilities,
      };
    }),
  );
  const stopSyncs = every(options.powerSyncIntervalMs, () =>
    reports.publish(hostId, 'syncing power states', async () => {
      const at = clock().toISOString();
      const domains = await driver.listDomains();
      return powerStateReports(hostId, at, domains.map((domain) => ({ instanceName: domain.instanceName, powerState: domain.powerState })));
    }),
  );
  return () => {
    stopped = true;
    stopHeartbeats();
    stopSyncs();
    unsubscribe();
  };
}
