// Leases at and after expiry, end to end (behaviour §3.7) on a clock the test steps forward by days,
// as NTP or a resumed VM would: the lease acts at its expiry (not at the next hourly poll) with
// VM.LEASE.EXPIRED and a STOP or DESTROY job by the system, once; a DESTROY on a delete-protected
// instance waits and is looked at again; VM.LEASE.EXPIRING comes within the days before; turning
// the feature off cancels the leases not yet expired, and turning it on again revives none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { SteppedClock } from '../support/stepped-clock.js';
import { actionEvents, setConfiguration, startHarness, type Harness } from './harness.js';

const DAY_MS = 86_400_000;

interface Vm {
  id: string;
  name: string;
  state: string;
  leaseDuration: number | null;
  leaseExpiryAction: string | null;
}

describe('lease expiry', () => {
  const clock = new SteppedClock();
  let h: Harness;
  let user: { id: string; client: GraphQLClient };

  const vm = async (id: string): Promise<Vm> =>
    (await user.client.request<{ virtualMachine: Vm }>(`query($id: ID!) { virtualMachine(id: $id) { id name state leaseDuration leaseExpiryAction } }`, { id })).virtualMachine;

  const deploy = async (name: string, d: number, a: string, startVm: boolean): Promise<Vm> => {
    const { deployVirtualMachine } = await user.client.request<{ deployVirtualMachine: { id: string } }>(
      `mutation($z: ID!, $s: ID!, $t: ID!, $name: String, $d: Int, $a: LeaseExpiryAction, $start: Boolean) {
        deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $name, leaseDuration: $d, leaseExpiryAction: $a, startVm: $start) { id } }`,
      { z: h.demo.zoneId, s: h.demo.serviceOfferingIds.small, t: h.demo.templateId, name, d, a, start: startVm },
    );
    const job = await h.waitForJob(user.client, deployVirtualMachine.id);
    expect(job.status, JSON.stringify(job.error)).toBe('SUCCEEDED');
    return vm(job.result!.id);
  };

  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const inState = (id: string, state: string) => until(`${id} ${state}`, async () => ((await vm(id)).state === state ? true : undefined));
  const eventsOf = async (id: string, type: string) => (await actionEvents(h.admin, id, type)).nodes;
  /** Two polls of the timer service: what is due has been acted on by then. */
  const polls = () => new Promise((resolve) => setTimeout(resolve, 2_500));

  beforeAll(async () => {
    h = await startHarness({ clock });
    user = await h.createUser('lease-expiry-user');
    await setConfiguration(h, 'instance.lease.enabled', 'true');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('announces a lease within its last days, then at expiry stops the instance once, by the system', async () => {
    const running = await deploy('expires-running', 1, 'STOP', true);
    expect(running).toMatchObject({ state: 'Running', leaseDuration: 1, leaseExpiryAction: 'STOP' });
    // instance.lease.expiryevent.daysbefore is 7: a one-day lease is announced at once.
    const expiring = await until('VM.LEASE.EXPIRING', async () => (await eventsOf(running.id, 'VM.LEASE.EXPIRING'))[0]);
    expect(expiring.description).toBe(`Lease expiring for for instance: expires-running (id: ${running.id}) with action: STOP`);

    clock.step(DAY_MS + 1_000);
    await inState(running.id, 'Stopped');
    const expired = await eventsOf(running.id, 'VM.LEASE.EXPIRED');
    expect(expired.map((e) => e.description)).toEqual([`Executing lease expiry action (STOP) for instance: expires-running (id: ${running.id})`]);
    expect(expired[0]!.actor).toMatchObject({ kind: 'system', component: 'lease-manager' });
    const { asyncJobs } = await h.admin.request<{ asyncJobs: { nodes: Array<{ cmd: string; status: string }> } }>(
      `query($id: ID) { asyncJobs(instanceId: $id, cmd: "stopVirtualMachine", first: 10) { nodes { cmd status } } }`,
      { id: running.id },
    );
    expect(asyncJobs.nodes).toEqual([{ cmd: 'stopVirtualMachine', status: 'SUCCEEDED' }]);
    // Acted on, the lease is annulled: no longer shown or listed, and never acts again.
    expect(await vm(running.id)).toMatchObject({ leaseDuration: null, leaseExpiryAction: null });
    const { virtualMachines } = await user.client.request<{ virtualMachines: { nodes: Array<{ id: string }> } }>(`{ virtualMachines(leased: true, first: 100) { nodes { id } } }`);
    expect(virtualMachines.nodes.map((n) => n.id)).not.toContain(running.id);

    const start = await user.client.request<{ startVirtualMachine: { id: string } }>(`mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: running.id });
    expect((await h.waitForJob(user.client, start.startVirtualMachine.id)).status).toBe('SUCCEEDED');
    clock.step(2 * DAY_MS);
    await polls();
    expect((await vm(running.id)).state).toBe('Running');
    expect(await eventsOf(running.id, 'VM.LEASE.EXPIRED')).toHaveLength(1);
  });

  it('leaves a delete-protected instance alone at expiry, and destroys it (no expunge) once it is not', async () => {
    await setConfiguration(h, 'instance.lease.scheduler.interval', '1');
    const protectedVm = await deploy('expires-protected', 1, 'DESTROY', false);
    await user.client.request(`mutation($id: ID!) { updateVirtualMachine(id: $id, deleteProtection: true) { id } }`, { id: protectedVm.id });

    clock.step(DAY_MS + 1_000);
    await polls();
    expect((await vm(protectedVm.id)).state).toBe('Stopped');
    expect(await eventsOf(protectedVm.id, 'VM.LEASE.EXPIRED')).toEqual([]);

    await user.client.request(`mutation($id: ID!) { updateVirtualMachine(id: $id, deleteProtection: false) { id } }`, { id: protectedVm.id });
    await inState(protectedVm.id, 'Destroyed');
    expect((await eventsOf(protectedVm.id, 'VM.LEASE.EXPIRED')).map((e) => e.description)).toEqual([
      `Executing lease expiry action (DESTROY) for instance: expires-protected (id: ${protectedVm.id})`,
    ]);
    await polls();
    expect((await vm(protectedVm.id)).state).toBe('Destroyed');
  });

  it('cancels the leases not yet expired when the feature is turned off; turning it on again revives none', async () => {
    const cancelled = await deploy('lease-cancelled', 1, 'STOP', true);
    await setConfiguration(h, 'instance.lease.enabled', 'false');
    expect((await eventsOf(cancelled.id, 'VM.LEASE.CANCELLED')).map((e) => e.description)).toEqual([
      `Lease is cancelled for the instance: lease-cancelled (id: ${cancelled.id}) `,
    ]);
    await setConfiguration(h, 'instance.lease.enabled', 'true');
    expect(await vm(cancelled.id)).toMatchObject({ state: 'Running', leaseDuration: null, leaseExpiryAction: null });

    clock.step(DAY_MS + 1_000);
    await polls();
    expect((await vm(cancelled.id)).state).toBe('Running');
    expect(await eventsOf(cancelled.id, 'VM.LEASE.EXPIRED')).toEqual([]);
  });
});
