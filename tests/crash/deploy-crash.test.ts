// The main job killed with SIGKILL at a random moment while 30 deployments are under way, round after
// round on one data directory: whatever the moment of the kill (before, during or after the appends,
// the publishes, the agents' work), after a restart every deployment ends, every instance that was
// recorded ends Running with exactly one VM.START from its own start, and a deployment cut off before
// it recorded its instance fails with a clear code and holds no name.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphQLClient } from 'graphql-request';
import { afterAll, describe, expect, it } from 'vitest';
import { launchMainJob, until as poll, type Launched } from '../support/child-process.js';

const ADMIN_KEY = 'deploy-crash-admin-key-0123456789abcdef';
const ROUNDS = 8;
const DEPLOYS = 30;
const ON_SLOW_HOST = 20;

interface Server {
  readonly process: Launched;
  readonly client: GraphQLClient;
}

async function startServer(dataDir: string): Promise<Server> {
  const { process, url } = await launchMainJob(
    // A lost command shows as a job failing at this timeout; 20 s is ample for a 3 s start.
    { VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: ADMIN_KEY, VMLEDGER_DEMO: '1', VMLEDGER_AGENT_TIMEOUT_MS: '20000' },
    [],
    120_000,
  );
  return { process, client: new GraphQLClient(url, { headers: { Authorization: `Bearer ${ADMIN_KEY}` } }) };
}

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => poll(what, probe, timeoutMs, 250);

interface JobRow {
  id: string;
  status: string;
  instanceId: string | null;
  error: { code: string; message: string } | null;
}

describe('the main job killed at random moments during deployments', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vmledger-deploy-crash-'));
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) await server.process.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${ROUNDS} rounds of ${DEPLOYS} deployments, each cut by SIGKILL at a random moment, all converge`, async () => {
    let server = await startServer(dataDir);
    servers.push(server);
    const demo = await server.client.request<{
      zones: { nodes: Array<{ id: string }> };
      clusters: { nodes: Array<{ id: string }> };
      serviceOfferings: { nodes: Array<{ id: string; name: string }> };
      templates: { nodes: Array<{ id: string }> };
      networks: { nodes: Array<{ id: string; name: string }> };
    }>(`{ zones { nodes { id } } clusters { nodes { id } } serviceOfferings { nodes { id name } } templates { nodes { id } } networks { nodes { id name } } }`);
    const zoneId = demo.zones.nodes[0]!.id;
    const offeringId = demo.serviceOfferings.nodes.find((o) => o.name === 'Small Instance')!.id;
    const templateId = demo.templates.nodes[0]!.id;
    const networkId = demo.networks.nodes.find((n) => n.name === 'demo-shared')!.id;
    const slow = await server.client.request<{ addHost: { id: string } }>(
      `mutation($c: ID!) { addHost(clusterId: $c, name: "slow-host", driver: "simulator", cpuNumber: 64, memory: 262144, simulator: { startDelayMs: 3000 }) { id } }`,
      { c: demo.clusters.nodes[0]!.id },
    );

    const killedAt: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // A client token per deployment: after the kill, the client sends each deployment again, as a
      // client does with a request that got no answer, and gets its job whatever became of it.
      const deployAll = () =>
        Promise.allSettled(
          Array.from({ length: DEPLOYS }, (_, i) =>
            server.client.request<{ deployVirtualMachine: { id: string } }>(
              `mutation($z: ID!, $s: ID!, $t: ID!, $n: String!, $net: [ID!], $h: ID, $token: String) {
                deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n, networkIds: $net, hostId: $h, clientToken: $token) { id } }`,
              { z: zoneId, s: offeringId, t: templateId, n: `r${round}-vm${i}`, net: [networkId], h: i < ON_SLOW_HOST ? slow.addHost.id : null, token: `r${round}-${i}` },
            ),
          ),
        );
      const cut = deployAll();
      // Anywhere from before the first append to after the slow host's replies.
      const delay = Math.floor(Math.random() * 4000);
      await new Promise((r) => setTimeout(r, delay));
      killedAt.push(delay);
      await server.process.kill('SIGKILL');
      await cut;
      server = await startServer(dataDir);
      servers.push(server);

      const resent = await deployAll();
      const jobIds = resent.map((r, i) => {
        if (r.status === 'rejected') throw new Error(`round ${round}, killed at ${delay} ms: deployment ${i} sent again was refused: ${String(r.reason)}`);
        return r.value.deployVirtualMachine.id;
      });
      const jobs = await until(`round ${round}: every deploy job ended (killed at ${delay} ms)`, async () => {
        const rows = await Promise.all(
          jobIds.map(async (id) => (await server.client.request<{ asyncJob: JobRow }>(`query($id: ID!) { asyncJob(id: $id) { id status instanceId error { code message } } }`, { id })).asyncJob),
        );
        return rows.every((j) => j.status !== 'PENDING') ? rows : undefined;
      });

      const { virtualMachines } = await server.client.request<{ virtualMachines: { nodes: Array<{ id: string; name: string; state: string }> } }>(
        `{ virtualMachines(first: 500) { nodes { id name state } } }`,
      );
      const instances = new Map(virtualMachines.nodes.map((vm) => [vm.id, vm]));
      for (const job of jobs) {
        const context = `round ${round}, killed at ${delay} ms: job ${job.id} ${JSON.stringify(job.error)}`;
        if (job.status === 'SUCCEEDED') {
          expect(instances.get(job.instanceId!)?.state, context).toBe('Running');
        } else {
          // Only a deployment cut off before its instance was recorded may fail, and then nothing of it remains.
          expect(job.error?.code, context).toBe('INTERNAL_ERROR');
          expect(job.error?.message, context).toMatch(/interrupted before its instance was recorded/);
          expect(job.instanceId === null || !instances.has(job.instanceId), context).toBe(true);
        }
      }
      for (const vm of instances.values()) expect(vm.state, `${vm.name} after round ${round}`).toBe('Running');

      const usage = await server.client.request<{ usageEvents: { nodes: Array<{ resourceId: string }> } }>(
        `{ usageEvents(type: "VM.START", first: 500) { nodes { resourceId } pageInfo { hasNextPage } } }`,
      );
      const starts = new Map<string, number>();
      for (const event of usage.usageEvents.nodes) starts.set(event.resourceId, (starts.get(event.resourceId) ?? 0) + 1);
      for (const id of instances.keys()) expect(starts.get(id), `VM.START of ${instances.get(id)!.name}`).toBe(1);
    }

    // A name whose deployment was cut off is free again at once: every name of the last round deploys.
    const { virtualMachines } = await server.client.request<{ virtualMachines: { nodes: Array<{ name: string }> } }>(`{ virtualMachines(first: 500) { nodes { name } } }`);
    const taken = new Set(virtualMachines.nodes.map((vm) => vm.name));
    const freed = Array.from({ length: DEPLOYS }, (_, i) => `r${ROUNDS - 1}-vm${i}`).filter((name) => !taken.has(name));
    for (const name of freed) {
      await server.client.request(`mutation($z: ID!, $s: ID!, $t: ID!, $n: String!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n, startVm: false) { id } }`, {
        z: zoneId,
        s: offeringId,
        t: templateId,
        n: name,
      });
    }
    await server.process.kill('SIGTERM');
    expect(killedAt).toHaveLength(ROUNDS);
  }, 600_000);
});
