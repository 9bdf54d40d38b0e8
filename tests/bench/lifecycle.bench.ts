// Issue 3's figures: lifecycle commands through the command handlers on the SQLite store with the
// read model following, and read-model query latency at 10,000 instances.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandEnvelope } from '../../adapters/eventstore/command-handler.js';
import { Commander } from '../../adapters/eventstore/commander.js';
import { SqliteEventStore } from '../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { instanceDecider, instanceStream, type InstanceCaller, type InstanceCommand, type ServiceOfferingSnapshot } from '../../domain/instance/index.js';
import { eventsProjection } from '../../projections/events/projection.js';
import { instancesProjection } from '../../projections/instances/projection.js';
import { getInstance, listInstances } from '../../projections/instances/queries.js';
import { ReadModel } from '../../projections/read-model.js';
import { usageEventsProjection } from '../../projections/usage/projection.js';
import { percentile, timeEach } from './latency.js';
import { perSecond } from './report.js';
import type { SuiteContext } from './runner.js';

const INSTANCES = 10_000;
const CALLERS = 64;
const owner: InstanceCaller = { role: 'USER', accountId: 'acct-bench' };
const offering: ServiceOfferingSnapshot = {
  id: 'so-small', name: 'Small Instance', cpuNumber: 1, cpuSpeed: 500, memory: 512, customized: false,
  minCpuNumber: null, maxCpuNumber: null, minMemory: null, maxMemory: null, dynamicScalingEnabled: true, hostTags: [], offerHa: false,
};

export function lifecycle(instanceId: string, n: number, at: string): InstanceCommand[] {
  const base = { instanceId, at, caller: owner };
  return [
    {
      ...base, type: 'DeployInstance', jobId: `${instanceId}-deploy`, name: `vm-${n}`, displayName: `bench ${n}`, group: null,
      accountId: owner.accountId, domainId: 'dom-root', zoneId: 'zone-bench', hypervisorType: 'KVM', serviceOffering: offering,
      template: { id: 'tmpl', size: 2 * 1024 ** 3, osTypeId: 'debian', dynamicallyScalable: true },
      rootVolume: { id: `${instanceId}-root`, name: `ROOT-${n}`, size: 2 * 1024 ** 3, storagePoolId: 'pool', diskOfferingId: null },
      dataVolumes: [],
      nics: [{ id: `${instanceId}-nic`, networkId: 'net', networkOfferingId: 'netoff', macAddress: '02:00:00:00:00:01', ipAddress: null, isDefault: true, deviceId: 0 }],
      startVm: false, affinityGroupIds: [],
    },
    { ...base, type: 'StartInstance', jobId: `${instanceId}-start`, considerLastHost: true },
    { instanceId, at, type: 'RecordStartSucceeded', jobId: `${instanceId}-start`, hostId: `host-${n % 3}` },
    { ...base, type: 'StopInstance', jobId: `${instanceId}-stop`, forced: false },
    { instanceId, at, type: 'RecordStopSucceeded', jobId: `${instanceId}-stop` },
    { ...base, type: 'DestroyInstance', jobId: `${instanceId}-destroy`, expunge: false, volumeIds: [], forceStop: false, allowUserExpungeRecoverVm: false },
  ];
}

export async function lifecycleFigures({ report }: SuiteContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-bench-lifecycle-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  const model = await ReadModel.open({ store, projections: [instancesProjection, eventsProjection, usageEventsProjection], directory: dir });
  try {
    // The control plane's command handler: per-stream queues over handleCommand's decide/append, trusting its cache.
    const commander = new Commander(store);
    const ids = Array.from({ length: INSTANCES }, () => randomUUID());
    const at = new Date().toISOString();
    let commands = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CALLERS }, async (_, caller) => {
        for (let n = caller; n < INSTANCES; n += CALLERS) {
          const instanceId = ids[n]!;
          for (const command of lifecycle(instanceId, n, at)) {
            const envelope: CommandEnvelope = { actor: { kind: 'system', component: 'bench' }, correlationId: instanceId, occurredAt: at };
            await commander.execute(instanceStream(instanceId), instanceDecider, command, envelope);
            commands++;
          }
        }
      }),
    );
    // Decided, appended and projected: the rate counts until the read model has caught up.
    const head = await store.headPosition();
    if (!(await model.waitForPosition(head, 120_000))) throw new Error('read model did not catch up');
    report({ name: `lifecycle commands, ${CALLERS} callers, decided + appended + projected`, value: perSecond(commands, started), unit: 'commands/s' });

    const visibility = { kind: 'all' } as const;
    const byId = timeEach(10_000, (i) => getInstance(model.db, visibility, ids[(i * 7919) % INSTANCES]!));
    report({ name: `virtualMachine(id) read-model fetch p50, ${INSTANCES.toLocaleString('en-US')} instances`, value: percentile(byId, 50), unit: 'ms' });
    report({ name: 'virtualMachine(id) read-model fetch p99', value: percentile(byId, 99), unit: 'ms' });
    const firstPage = timeEach(1_000, () => listInstances(model.db, visibility, {}, { first: 50 }));
    report({ name: 'virtualMachines(first: 50) first page p50', value: percentile(firstPage, 50), unit: 'ms' });
    report({ name: 'virtualMachines(first: 50) first page p99', value: percentile(firstPage, 99), unit: 'ms' });
    const userPage = timeEach(1_000, () => listInstances(model.db, { kind: 'account', accountId: owner.accountId }, { state: 'Destroyed' }, { first: 50 }));
    report({ name: 'one account, filtered by state, first 50 p99', value: percentile(userPage, 99), unit: 'ms' });
  } finally {
    await model.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
