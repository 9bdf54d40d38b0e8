// A real log, written the way the main job writes it: the stack with simulated hosts, the demo zone,
// an account and a few instances taken through their lives. For the audit and usage-record tests.
import { newCommandKey } from '../../../adapters/hypervisor/command-signing.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBus } from '../../../adapters/bus/memory-bus.js';
import { systemClock } from '../../../adapters/clock/system-clock.js';
import { SqliteEventStore } from '../../../adapters/eventstore/sqlite/sqlite-event-store.js';
import { SimulatedCloud } from '../../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../../adapters/secrets/memory-secret-store.js';
import { bootstrapRootAdmin } from '../../../api/control-plane/accounts.js';
import { seedDemo, type DemoZone } from '../../../api/control-plane/demo.js';
import type { Caller, ControlPlane, JobView } from '../../../api/control-plane/port.js';
import { startStack, type Stack } from '../../../api/stack.js';

export interface StackLog {
  readonly dir: string;
  readonly store: SqliteEventStore;
  readonly stack: Stack;
  readonly controlPlane: ControlPlane;
  readonly admin: Caller;
  readonly demo: DemoZone;
  /** The instances the scenario made: one destroyed, one running, and a user's stopped one. */
  readonly instances: { readonly destroyed: string; readonly running: string; readonly users: string };
  readonly user: Caller;
  /** Stops the stack and closes the log, leaving the files for inspection. */
  stop(): Promise<void>;
  remove(): void;
}

export async function buildStackLog(): Promise<StackLog> {
  const dir = mkdtempSync(join(tmpdir(), 'vmledger-stack-log-'));
  const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
  const bus = new MemoryBus();
  const secrets = new MemorySecretStore();
  const stack = await startStack({
    store,
    readModelDirectory: dir,
    bus,
    clock: systemClock,
    secrets,
    commandKeys: { current: newCommandKey() },
    simulator: new SimulatedCloud(),
    timeouts: { agentMs: 2000, gracefulStopMs: 500 },
    // No timer-driven appends while a test compares the log with its read model.
    agentIntervals: { heartbeatMs: 600_000, powerSyncMs: 600_000 },
    onError: () => undefined,
  });
  const controlPlane = stack.controlPlane;
  const { caller: admin } = await bootstrapRootAdmin(stack.context, 'audit-root-admin-key-0123456789abcdefghij');
  const demo = await seedDemo(stack.context, admin, { secrets, onHostAdded: stack.hostAdded });
  const account = (await controlPlane.createAccount(admin, { name: 'alice', role: 'USER' })) as { apiKey: string };
  const user = controlPlane.authenticate(account.apiKey)!;

  const done = async (job: Promise<JobView>): Promise<JobView> => {
    const { id } = await job;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      const current = controlPlane.asyncJob(admin, id);
      if (current && current.status !== 'PENDING') {
        if (current.status !== 'SUCCEEDED') throw new Error(`job ${current.cmd} failed: ${current.error?.message}`);
        return current;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`job ${id} did not finish`);
  };
  const deploy = async (caller: Caller, name: string, startVm: boolean) =>
    (
      await done(
        controlPlane.deployVirtualMachine(caller, {
          zoneId: demo.zoneId,
          serviceOfferingId: demo.serviceOfferingIds.small,
          templateId: demo.templateId,
          networkIds: [demo.networkIds.shared],
          name,
          startVm,
        }),
      )
    ).instanceId!;

  const destroyed = await deploy(admin, 'audit-a', true);
  await done(controlPlane.stopVirtualMachine(admin, { id: destroyed }));
  await done(controlPlane.destroyVirtualMachine(admin, { id: destroyed }));
  const running = await deploy(admin, 'audit-b', true);
  await done(controlPlane.stopVirtualMachine(admin, { id: running }));
  await controlPlane.changeServiceForVirtualMachine(admin, { id: running, serviceOfferingId: demo.serviceOfferingIds.medium });
  await done(controlPlane.startVirtualMachine(admin, { id: running }));
  const users = await deploy(user, 'alice-1', true);
  await done(controlPlane.stopVirtualMachine(user, { id: users }));
  await stack.readModel.waitForPosition(await store.headPosition(), 10_000);

  let stopped = false;
  return {
    dir,
    store,
    stack,
    controlPlane,
    admin,
    demo,
    user,
    instances: { destroyed, running, users },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stack.stop();
      await bus.close();
      await store.close();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
