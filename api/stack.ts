// The composition root's parts assembled: read model, commander, saga runner, orchestrator,
// simulated hosts with their agents, and the control plane the API serves. The process entry
// (api/main.ts) and the end-to-end tests build vmledger the same way, through this function.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Bus } from '../adapters/bus/port.js';
import type { Clock } from '../adapters/clock/port.js';
import { Commander } from '../adapters/eventstore/commander.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import { SqliteStateSnapshotStore, STATE_SNAPSHOTS_FILE_NAME } from '../adapters/eventstore/sqlite-state-snapshots.js';
import { StateSnapshots } from '../adapters/eventstore/state-snapshots.js';
import { startAgent, type Agent } from '../adapters/hypervisor/agent.js';
import type { CommandKeyRing } from '../adapters/hypervisor/command-signing.js';
import { AgentQueryClient } from '../adapters/hypervisor/query-client.js';
import type { SimulatedCloud } from '../adapters/hypervisor/simulator/index.js';
import type { SecretStore } from '../adapters/secrets/port.js';
import { listHosts, type HostNode } from '../projections/infrastructure/index.js';
import { ReadModel } from '../projections/read-model.js';
import { instancesOnHost } from '../projections/instances/queries.js';
import { domainSpec } from '../sagas/workflows/domain-spec.js';
import { recordHostCapabilities } from '../sagas/host-capabilities.js';
import type { OperationTimeouts } from '../sagas/workflows/workflow.js';
import { Orchestrator } from '../sagas/orchestrator.js';
import { LeaseManager } from '../sagas/leases.js';
import { ScheduleManager } from '../sagas/schedules.js';
import { SagaRunner } from '../sagas/runner.js';
import { TimerService } from '../sagas/timers.js';
import { createControlPlane } from './control-plane/index.js';
import type { ControlPlaneContext } from './control-plane/context.js';
import type { ControlPlane } from './control-plane/port.js';
import { projections } from './projections.js';

export interface StackOptions {
  readonly store: EventStore;
  /** Where the read model (and the state snapshots, `snapshots.sqlite`) live: the data directory, or ':memory:' (no snapshots). */
  readonly readModelDirectory: string;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly secrets: SecretStore;
  /** The keys the orchestrator signs agent commands with (see api/command-keys.ts). */
  readonly commandKeys: CommandKeyRing;
  /** The in-process simulated hypervisor, whose hosts get an agent each in this process. */
  readonly simulator: SimulatedCloud;
  readonly timeouts?: OperationTimeouts;
  readonly readYourWritesMs?: number;
  readonly agentIntervals?: { heartbeatMs: number; powerSyncMs: number };
  /** Bounds of the in-memory caches: folded stream states (the commander's) and the sagas' stream histories. */
  readonly cacheSizes?: { readonly states?: number; readonly histories?: number };
  readonly onError?: (error: unknown, where: string) => void;
}

export interface Stack {
  readonly controlPlane: ControlPlane;
  readonly context: ControlPlaneContext;
  readonly orchestrator: Orchestrator;
  readonly readModel: ReadModel;
  /** Gives a simulated host its in-process agent (the control plane calls it from addHost). */
  hostAdded(host: HostNode): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_TIMEOUTS: OperationTimeouts = { agentMs: 60_000, gracefulStopMs: 30_000 };

export async function startStack(options: StackOptions): Promise<Stack> {
  const onError = options.onError ?? ((error: unknown, where: string) => console.error(`${where}:`, error));
  const readModel = await ReadModel.open({
    store: options.store,
    projections,
    directory: options.readModelDirectory,
    onError: (error) => onError(error, 'read model'),
  });
  // The hosts served and the jobs resumed below are read from the read model: it must have reached
  // the log's head first, or a host or job recorded just before a crash would be missed.
  const head = await options.store.headPosition();
  if (!(await readModel.waitForPosition(head, Number.POSITIVE_INFINITY))) {
    throw readModel.error ?? new Error(`the read model stopped before position ${head}`);
  }
  // Beside either log: snapshots are derived data, so a stack without a directory just folds whole streams.
  const snapshots =
    options.readModelDirectory === ':memory:'
      ? undefined
      : new StateSnapshots(SqliteStateSnapshotStore.open(join(options.readModelDirectory, STATE_SNAPSHOTS_FILE_NAME)), (error) => onError(error, 'state snapshots'));
  const commander = new Commander(options.store, { cacheSize: options.cacheSizes?.states, snapshots });
  const runner = new SagaRunner({
    store: options.store,
    commander,
    readModel: () => readModel.db,
    bus: options.bus,
    clock: options.clock,
    random: Math.random,
    timeouts: options.timeouts ?? DEFAULT_TIMEOUTS,
    commandKeys: options.commandKeys,
    secrets: options.secrets,
    historyCacheSize: options.cacheSizes?.histories,
    onError: (error, jobId) => onError(error, `job ${jobId}`),
  });
  const timers = new TimerService({ commander, readModel: () => readModel.db, clock: options.clock, onError: (error, timerId) => onError(error, `timer ${timerId}`) });
  const leases = new LeaseManager({ commander, runner, timers, readModel: () => readModel.db, clock: options.clock });
  const schedules = new ScheduleManager({ commander, runner, timers, readModel: () => readModel.db, clock: options.clock });
  const agentQueries = await AgentQueryClient.start({
    bus: options.bus,
    commandKeys: options.commandKeys,
    clock: () => options.clock.now(),
    newId: randomUUID,
    onError: (error) => onError(error, 'agent queries'),
    secrets: options.secrets,
  });
  const context: ControlPlaneContext = {
    agentQueries,
    store: options.store,
    commander,
    readModel,
    runner,
    leases,
    schedules,
    clock: options.clock,
    newId: randomUUID,
    random: Math.random,
    readYourWritesMs: options.readYourWritesMs ?? 10_000,
  };

  const agents: Agent[] = [];
  const intervals = options.agentIntervals ?? { heartbeatMs: 30_000, powerSyncMs: 60_000 };
  const serveSimulatedHost = async (host: HostNode): Promise<void> => {
    if (host.driver !== 'simulator' || options.simulator.host(host.id)) return;
    const driver = options.simulator.addHost(host.id, {
      cpuNumber: host.cpuNumber,
      cpuSpeed: host.cpuSpeed,
      memory: host.memory,
      startDelayMs: host.simulator?.startDelayMs ?? 0,
      stopDelayMs: host.simulator?.stopDelayMs ?? 0,
      failOn: host.simulator?.failOn ?? [],
    });
    restoreDomains(readModel, host.id, (spec) => driver.adoptDomain(spec));
    // Recorded here rather than left to the first heartbeat: a simulated host's capabilities are
    // known at once, and a timer must not append to the log at a moment nobody chose.
    await recordHostCapabilities({ commander, readModel: () => readModel.db, clock: options.clock }, host.id, (await driver.hostInfo()).capabilities);
    agents.push(
      await startAgent({
        bus: options.bus,
        drivers: new Map([[host.id, driver]]),
        clock: () => options.clock.now(),
        newId: randomUUID,
        heartbeatIntervalMs: intervals.heartbeatMs,
        powerSyncIntervalMs: intervals.powerSyncMs,
        // The in-process agents check signatures like any other: one code path for every agent.
        commandKeys: async () => options.commandKeys,
        onError: (error, where) => onError(error, `agent ${host.id} ${where}`),
      }),
    );
  };
  for (const host of listHosts(readModel.db, { first: 500 }).nodes) await serveSimulatedHost(host);

  const controlPlane = createControlPlane(context, { secrets: options.secrets, onHostAdded: serveSimulatedHost });
  const orchestrator = new Orchestrator({
    commander,
    runner,
    bus: options.bus,
    clock: options.clock,
    readModel: () => readModel.db,
    readModelCaughtUp: async () => readModel.position >= (await options.store.headPosition()),
    timers,
    leases,
    schedules,
    onError: (error) => onError(error, 'orchestrator'),
  });
  await orchestrator.start();

  return {
    controlPlane,
    context,
    orchestrator,
    readModel,
    hostAdded: serveSimulatedHost,
    async stop() {
      await orchestrator.stop();
      await agentQueries.stop();
      for (const agent of agents) await agent.stop();
      await snapshots?.close();
      await readModel.close();
    },
  };
}

/**
 * The simulator keeps its domains in memory; a real host keeps them across a restart of the control
 * plane. So a simulated host starts with the domains the log says it runs.
 */
function restoreDomains(readModel: ReadModel, hostId: string, adopt: (spec: ReturnType<typeof domainSpec>) => void): void {
  for (const instance of instancesOnHost(readModel.db, hostId, ['Running', 'Stopping', 'Migrating'])) adopt(domainSpec(instance));
}
