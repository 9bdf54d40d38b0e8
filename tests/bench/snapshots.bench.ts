// Issue 14's simulator figure, end to end through GraphQL against the main job in its own process:
// VM snapshot jobs (createVMSnapshot with memory, then deleteVMSnapshot) completed per second by 64
// clients, each on an instance of its own (one snapshot task at a time per instance, §5.1).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { launchMainJob } from '../support/child-process.js';
import { percentile } from './latency.js';
import { perSecond } from './report.js';
import type { SuiteContext } from './runner.js';
import { graphqlAs, waitForJob } from './graphql-client.js';

const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const CLIENTS = 64;
/** Create+delete cycles per client: each is two jobs. */
const CYCLES = Number(process.env.BENCH_SNAPSHOT_CYCLES ?? 20);

const graphql = graphqlAs(ADMIN_KEY);


export async function snapshotFigures({ report }: SuiteContext): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vmledger-bench-snapshots-'));
  const server = await launchMainJob({ VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: ADMIN_KEY, VMLEDGER_DEMO: '1' }, []).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const sockets: Client[] = [];
  try {
    const zone = (await graphql<{ zones: { nodes: Array<{ id: string }> } }>(server.url, '{ zones { nodes { id } } }')).zones.nodes[0]!.id;
    const offering = (await graphql<{ serviceOfferings: { nodes: Array<{ id: string; name: string }> } }>(server.url, '{ serviceOfferings { nodes { id name } } }')).serviceOfferings.nodes.find((o) => o.name === 'Small Instance')!.id;
    const template = (await graphql<{ templates: { nodes: Array<{ id: string }> } }>(server.url, '{ templates { nodes { id } } }')).templates.nodes[0]!.id;
    const wsUrl = server.url.replace(/^http/, 'ws');
    for (let c = 0; c < CLIENTS; c++) {
      sockets.push(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${ADMIN_KEY}` }, lazy: false, retryAttempts: 0 }));
    }
    const instances = await Promise.all(
      sockets.map(async (ws, c) => {
        const { deployVirtualMachine } = await graphql<{ deployVirtualMachine: { id: string; instanceId: string } }>(
          server.url,
          'mutation($z: ID!, $s: ID!, $t: ID!, $n: String!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n) { id instanceId } }',
          { z: zone, s: offering, t: template, n: `snap-bench-${c}` },
        );
        if ((await waitForJob(ws, deployVirtualMachine.id)) !== 'SUCCEEDED') throw new Error('deploy failed');
        return deployVirtualMachine.instanceId;
      }),
    );

    const latencies: number[] = [];
    let jobs = 0;
    let failed = 0;
    const run = async (ws: Client, mutation: string, variables: Record<string, unknown>): Promise<string> => {
      const sent = performance.now();
      const data = await graphql<Record<string, { id: string; resourceId: string }>>(server.url, mutation, variables);
      const job = Object.values(data)[0]!;
      if ((await waitForJob(ws, job.id)) !== 'SUCCEEDED') failed++;
      latencies.push(performance.now() - sent);
      jobs++;
      return job.resourceId;
    };
    const started = performance.now();
    await Promise.all(
      sockets.map(async (ws, c) => {
        for (let n = 0; n < CYCLES; n++) {
          const snapshotId = await run(ws, 'mutation($vm: ID!, $n: String!) { createVMSnapshot(virtualMachineId: $vm, name: $n, snapshotMemory: true) { id resourceId } }', { vm: instances[c], n: `s-${n}` });
          await run(ws, 'mutation($id: ID!) { deleteVMSnapshot(vmSnapshotId: $id) { id resourceId } }', { id: snapshotId });
        }
      }),
    );
    const rate = perSecond(jobs, started);
    if (failed > 0) throw new Error(`${failed} of ${jobs} snapshot jobs failed`);
    report({ name: `VM snapshot jobs completed (create with memory, delete), ${CLIENTS} clients, simulator`, value: rate, unit: 'jobs/s' });
    report({ name: 'VM snapshot job latency p50 (mutation → SUCCEEDED pushed)', value: percentile(latencies, 50), unit: 'ms' });
    report({ name: 'VM snapshot job latency p99', value: percentile(latencies, 99), unit: 'ms' });
  } finally {
    for (const ws of sockets) await ws.dispose();
    await server.process.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
