// The main job killed with SIGKILL in the middle of 50 concurrent starts: after a restart every
// instance ends Running, and each has exactly one VM.START usage event.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { afterAll, describe, expect, it } from 'vitest';
import { launchMainJob, until as poll } from '../support/child-process.js';

const ADMIN_KEY = 'crash-test-admin-key-0123456789abcdef';
const INSTANCES = 50;

interface Server {
  readonly child: ChildProcess;
  readonly client: GraphQLClient;
  readonly exited: Promise<NodeJS.Signals | number | null>;
}

async function startServer(dataDir: string): Promise<Server> {
  const { process, url } = await launchMainJob({ VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: ADMIN_KEY, VMLEDGER_DEMO: '1' }, [], 30_000);
  return { child: process.child, exited: process.exited, client: new GraphQLClient(url, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } }) };
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => poll(what, probe, timeoutMs, 200);

describe('the main job killed during concurrent starts', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vmledger-server-crash-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const servers: Server[] = [];
  afterAll(async () => {
    // A failed run must not leave a server behind.
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  });

  it('resumes after SIGKILL: every instance ends Running with exactly one VM.START', async () => {
    const first = await startServer(dataDir);
    servers.push(first);
    const { client } = first;
    // Slow hosts, so that starts are in flight when the process dies.
    const setup = await client.request<{ serviceOfferings: { nodes: Array<{ id: string; name: string }> } }>(
      `{ serviceOfferings { nodes { id name } } }`,
    );
    const zone = await client.request<{ createZone: { id: string } }>(`mutation { createZone(name: "crash-zone") { id } }`);
    const cluster = await client.request<{ addCluster: { id: string } }>(`mutation($z: ID!) { addCluster(zoneId: $z, name: "crash-cluster", hypervisor: "KVM") { id } }`, { z: zone.createZone.id });
    for (const name of ['slow-1', 'slow-2']) {
      await client.request(`mutation($c: ID!, $n: String!) { addHost(clusterId: $c, name: $n, driver: "simulator", simulator: { startDelayMs: 800, stopDelayMs: 100 }) { id } }`, {
        c: cluster.addCluster.id,
        n: name,
      });
    }
    await client.request(`mutation($z: ID!) { createNetwork(zoneId: $z, name: "crash-net", type: L2, vlan: 300) { id } }`, { z: zone.createZone.id });
    const small = setup.serviceOfferings.nodes.find((o) => o.name === 'Small Instance')!;
    const template = await client.request<{ registerTemplate: { id: string } }>(
      `mutation($z: ID) { registerTemplate(zoneId: $z, name: "crash-linux", osType: "Debian GNU/Linux 12 (64-bit)", url: "https://images.invalid/crash.qcow2", size: 2147483648) { id } }`,
      { z: zone.createZone.id },
    );

    const ids: string[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const job = await client.request<{ deployVirtualMachine: { result: { id: string } | null; id: string } }>(
        `mutation($z: ID!, $s: ID!, $t: ID!, $n: String!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n, startVm: false) { id result { id } } }`,
        { z: zone.createZone.id, s: small.id, t: template.registerTemplate.id, n: `crash-${i}` },
      );
      const done = await until('deploy job', async () => {
        const { asyncJob } = await client.request<{ asyncJob: { status: string; result: { id: string } | null } }>(`query($id: ID!) { asyncJob(id: $id) { status result { id } } }`, { id: job.deployVirtualMachine.id });
        return asyncJob.status === 'PENDING' ? undefined : asyncJob;
      });
      expect(done.status).toBe('SUCCEEDED');
      ids.push(done.result!.id);
    }

    // 50 concurrent starts, then SIGKILL while the hosts are still booting them.
    await Promise.all(ids.map((id) => client.request(`mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id })));
    await new Promise((r) => setTimeout(r, 300));
    const before = await client.request<{ virtualMachines: { nodes: Array<{ state: string }> } }>(`query($ids: [ID!]) { virtualMachines(ids: $ids, first: 100) { nodes { state } } }`, { ids });
    // The kill must land mid-flight, or this test would prove nothing.
    expect(before.virtualMachines.nodes.filter((vm) => vm.state === 'Starting').length).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = await startServer(dataDir);
    servers.push(second);
    try {
      const states = await until('every instance Running', async () => {
        const { virtualMachines } = await second.client.request<{ virtualMachines: { nodes: Array<{ id: string; state: string }> } }>(
          `query($ids: [ID!]) { virtualMachines(ids: $ids, first: 100) { nodes { id state } } }`,
          { ids },
        );
        return virtualMachines.nodes.length === INSTANCES && virtualMachines.nodes.every((vm) => vm.state === 'Running') ? virtualMachines.nodes : undefined;
      });
      expect(states).toHaveLength(INSTANCES);
      const usage = await second.client.request<{ usageEvents: { nodes: Array<{ resourceId: string }> } }>(`{ usageEvents(type: "VM.START", first: 500) { nodes { resourceId } } }`);
      const starts = new Map<string, number>();
      for (const event of usage.usageEvents.nodes) starts.set(event.resourceId, (starts.get(event.resourceId) ?? 0) + 1);
      for (const id of ids) expect(starts.get(id), `VM.START of ${id}`).toBe(1);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 180_000);
});
