// Issue 15's affinity figures: host-planner decisions per second at 1,000 hosts, 100,000 instances and
// 1,000 affinity groups (the pure functions: the groups' constraints, then planHost), beside the same
// planner without groups; and deploy jobs per second through GraphQL against the main job with and
// without groups, in turns.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { affinityConstraints, AFFINITY_GROUP_TYPES, type AffinityMember, type GroupMembership } from '../../domain/affinity/index.js';
import { planHost, type HostAllocationRequest, type HostCandidate } from '../../domain/allocation/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { launchMainJob } from '../support/child-process.js';
import { seededRandom } from '../unit/infrastructure/support.js';
import { perSecond } from './report.js';
import { interleaved, ratioFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';
import { graphqlAs, waitForJob } from './graphql-client.js';

const HOSTS = 1_000;
const INSTANCES = 100_000;
const GROUPS = 1_000;
const DECIDE_SECONDS = 2;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const CLIENTS = 32;
const DEPLOYS = Number(process.env.BENCH_AFFINITY_DEPLOYS ?? 500);
const NOW = '2026-05-01T12:00:00.000Z';

/** 1,000 hosts with some load; 100,000 instances, each in one of 1,000 groups of every type (100 members each). */
function world(): { hosts: HostCandidate[]; groups: GroupMembership[] } {
  const random = seededRandom(15);
  const hosts: HostCandidate[] = Array.from({ length: HOSTS }, (_, i) => ({
    hostId: `h${i}`, name: `h${i}`, clusterId: `c${i % 10}`, hypervisor: 'KVM', state: 'Up', hostTags: [],
    cpuNumber: 64, cpuSpeed: 2000, memory: 262_144, usedCpu: Math.floor(random() * 64_000), usedMemory: Math.floor(random() * 131_072), accountInstanceCount: 0,
  }));
  const members: AffinityMember[][] = Array.from({ length: GROUPS }, () => []);
  for (let i = 0; i < INSTANCES; i++) {
    const running = random() < 0.8;
    const hostId = `h${Math.floor(random() * HOSTS)}`;
    members[i % GROUPS]!.push({ instanceId: `vm${i}`, hostIds: running ? [hostId] : [], lastHostId: hostId, state: running ? 'Running' : 'Stopped', updatedAt: NOW });
  }
  const groups = members.map((m, g) => ({ groupId: `g${g}`, name: `g${g}`, type: AFFINITY_GROUP_TYPES[g % AFFINITY_GROUP_TYPES.length]!, members: m }));
  return { hosts, groups };
}

function decisionsPerSecond(decide: (n: number) => void): number {
  let n = 0;
  const started = performance.now();
  const deadline = started + DECIDE_SECONDS * 1000;
  while (performance.now() < deadline) for (let k = 0; k < 20; k++) decide(n++);
  return perSecond(n, started);
}

const graphql = graphqlAs(ADMIN_KEY);


export async function affinityFigures({ report, rounds }: SuiteContext): Promise<void> {
  const { hosts, groups } = world();
  const base: HostAllocationRequest = { cpuNumber: 2, cpuSpeed: 1000, memory: 2048, hostTags: [], algorithm: 'random', capacityType: 'CPU', cpuToMemoryWeight: 0.5 };
  const random = seededRandom(7);
  let refused = 0;
  const decide = (withGroups: boolean) => (n: number) => {
    // An instance in two groups of different kinds (every group holds 100 of the 100,000 instances).
    const mine = withGroups ? [groups[n % GROUPS]!, groups[(n * 7 + 1) % GROUPS]!] : [];
    const affinity = affinityConstraints(`vm${n % INSTANCES}`, mine, NOW, 3600);
    const plan = planHost({ ...base, affinity, hostPriorities: affinity.hostPriorities, lastHostId: `h${n % HOSTS}` }, { hosts }, random);
    if (isRejection(plan)) refused++;
  };
  const planner = await interleaved(rounds, { plain: async () => decisionsPerSecond(decide(false)), grouped: async () => decisionsPerSecond(decide(true)) });
  report(ratioFigure(`planner decisions, ${HOSTS.toLocaleString('en-US')} hosts, ${INSTANCES.toLocaleString('en-US')} instances, ${GROUPS.toLocaleString('en-US')} groups (÷ no groups)`, 'decisions/s', planner.grouped, planner.plain));
  report(ratioFigure(`planner decisions, ${HOSTS.toLocaleString('en-US')} hosts, no groups`, 'decisions/s', planner.plain, planner.plain));
  if (refused > 0) report({ name: 'planner decisions refused (no host qualified)', value: refused, unit: 'decisions' });

  const dataDir = mkdtempSync(join(tmpdir(), 'vmledger-bench-affinity-'));
  const server = await launchMainJob({ VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: ADMIN_KEY, VMLEDGER_DEMO: '1' }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const sockets: Client[] = [];
  try {
    const { serviceOfferings } = await graphql<{ serviceOfferings: { nodes: Array<{ id: string; name: string }> } }>(server.url, '{ serviceOfferings { nodes { id name } } }');
    const zone = (await graphql<{ createZone: { id: string } }>(server.url, 'mutation { createZone(name: "bench-zone") { id } }')).createZone.id;
    const cluster = (await graphql<{ addCluster: { id: string } }>(server.url, 'mutation($z: ID!) { addCluster(zoneId: $z, name: "bench", hypervisor: "KVM") { id } }', { z: zone })).addCluster.id;
    for (let h = 0; h < 8; h++) {
      await graphql(server.url, 'mutation($c: ID!, $n: String!) { addHost(clusterId: $c, name: $n, driver: "simulator", cpuNumber: 4096, cpuSpeed: 4000, memory: 16777216) { id } }', { c: cluster, n: `bench-${h}` });
    }
    await graphql(server.url, 'mutation($z: ID!) { createNetwork(zoneId: $z, name: "bench-l2", type: L2, vlan: 500) { id } }', { z: zone });
    const offering = serviceOfferings.nodes.find((o) => o.name === 'Small Instance')!.id;
    const template = (
      await graphql<{ registerTemplate: { id: string } }>(
        server.url,
        'mutation($z: ID) { registerTemplate(zoneId: $z, name: "bench-linux", osType: "Debian GNU/Linux 12 (64-bit)", url: "https://images.invalid/bench.qcow2", size: 2147483648) { id } }',
        { z: zone },
      )
    ).registerTemplate.id;
    // Strict affinity (all on one host) and non-strict anti-affinity (spread by priority): groups that never run out of hosts.
    const groupIds: string[] = [];
    for (let g = 0; g < 16; g++) {
      const type = g % 2 === 0 ? 'host affinity' : 'non-strict host anti-affinity';
      groupIds.push((await graphql<{ createAffinityGroup: { id: string } }>(server.url, 'mutation($n: String!, $t: String!) { createAffinityGroup(name: $n, type: $t) { id } }', { n: `bench-${g}`, t: type })).createAffinityGroup.id);
    }
    const wsUrl = server.url.replace(/^http/, 'ws');
    for (let c = 0; c < CLIENTS; c++) sockets.push(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${ADMIN_KEY}` }, lazy: false, retryAttempts: 0 }));
    let serial = 0;
    const deployRate = async (withGroups: boolean): Promise<number> => {
      let next = 0;
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        sockets.map(async (ws) => {
          while (next < DEPLOYS) {
            const n = next++;
            const { deployVirtualMachine } = await graphql<{ deployVirtualMachine: { id: string } }>(
              server.url,
              'mutation($z: ID!, $s: ID!, $t: ID!, $n: String!, $g: [ID!]) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n, affinityGroupIds: $g) { id } }',
              { z: zone, s: offering, t: template, n: `bench-${serial++}`, g: withGroups ? [groupIds[n % groupIds.length]] : null },
            );
            if ((await waitForJob(ws, deployVirtualMachine.id)) !== 'SUCCEEDED') failed++;
          }
        }),
      );
      if (failed > 0) throw new Error(`${failed} of ${DEPLOYS} deploy jobs failed`);
      return perSecond(DEPLOYS, started);
    };
    const deploys = await interleaved(Math.min(rounds, 3), { plain: () => deployRate(false), grouped: () => deployRate(true) });
    report(ratioFigure(`deployVirtualMachine jobs without groups, ${CLIENTS} clients`, 'jobs/s', deploys.plain, deploys.plain));
    report(ratioFigure(`deployVirtualMachine jobs in affinity groups, ${CLIENTS} clients (÷ without)`, 'jobs/s', deploys.grouped, deploys.plain));
  } finally {
    for (const ws of sockets) await ws.dispose();
    await server.process.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
