// Issue 4's figures, end to end through GraphQL against the main job running in its own process:
// completed deploy jobs per second with 64 concurrent clients and their latency, and query
// latency at 10,000 instances, each beside a bare express server's request rate measured in the
// same run with the same client, in turns with it; and the CPU time each side spends per deploy job and per bare
// request, which bounds what rate two cores can reach.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { launch, launchMainJob } from '../support/child-process.js';
import { percentile } from './latency.js';
import { perSecond } from './report.js';
import { interleaved, ratioFigure, spreadFigure } from './rounds.js';
import type { SuiteContext } from './runner.js';
import { graphqlAs, waitForJob } from './graphql-client.js';

const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const CLIENTS = 64;
const DEPLOYS = Number(process.env.BENCH_DEPLOYS ?? 10_000);
const RATE_SECONDS = 3;

const graphql = graphqlAs(ADMIN_KEY);

/**
 * Starts counting the CPU time the server process `pid` (all its threads, from Linux's /proc) and
 * this client process use; `perUnit(n)` gives each side's ms per unit of work done since. Which side
 * the machine's two cores are spent on says what a rate can reach here.
 */
function cpuMeter(pid: number): { perUnit(units: number): { server: number; client: number } } {
  const serverMs = (): number => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    // utime and stime, fields 14 and 15 of proc(5), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const clientMs = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const start = { server: serverMs(), client: clientMs() };
  return { perUnit: (units) => ({ server: (serverMs() - start.server) / units, client: (clientMs() - start.client) / units }) };
}

/** Requests per second from `CLIENTS` concurrent loops of `request` for a few seconds, and how many were made. */
async function requestRate(request: () => Promise<unknown>): Promise<{ rate: number; count: number }> {
  let count = 0;
  const deadline = performance.now() + RATE_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < deadline) {
        await request();
        count++;
      }
    }),
  );
  return { rate: perSecond(count, started), count };
}


export async function apiFigures({ report, rounds }: SuiteContext): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vmledger-bench-api-'));
  const bareServer = await launch(
    ['-e', "const app = require('express')(); app.post('/', (q, r) => r.json({ data: { ok: true } })); const s = app.listen(0, '127.0.0.1', () => console.log('bare on http://127.0.0.1:' + s.address().port + '/'));"],
    {},
    /bare on (http:\/\/[^\s]+)/,
  );
  const bare = { process: bareServer.process, url: bareServer.match[1]! };
  // A main job that fails to start must not leave the bare server running behind the bench.
  const server = await launchMainJob(
    { VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: ADMIN_KEY, VMLEDGER_DEMO: '1' },
    process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [],
  ).catch(async (error: unknown) => {
    await bare.process.kill();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  const sockets: Client[] = [];
  try {
    // A zone big enough for every deployment of the run, with simulator delays of 0.
    const { serviceOfferings } = await graphql<{ serviceOfferings: { nodes: Array<{ id: string; name: string }> } }>(server.url, '{ serviceOfferings { nodes { id name } } }');
    const zone = (await graphql<{ createZone: { id: string } }>(server.url, 'mutation { createZone(name: "bench-zone") { id } }')).createZone.id;
    const cluster = (await graphql<{ addCluster: { id: string } }>(server.url, 'mutation($z: ID!) { addCluster(zoneId: $z, name: "bench", hypervisor: "KVM") { id } }', { z: zone })).addCluster.id;
    for (let h = 0; h < 4; h++) {
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

    const wsUrl = server.url.replace(/^http/, 'ws');
    for (let c = 0; c < CLIENTS; c++) {
      sockets.push(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${ADMIN_KEY}` }, lazy: false, retryAttempts: 0 }));
    }
    const latencies: number[] = [];
    let next = 0;
    let failed = 0;
    const deployMeter = cpuMeter(server.process.child.pid!);
    const started = performance.now();
    await Promise.all(
      sockets.map(async (ws) => {
        while (next < DEPLOYS) {
          const n = next++;
          const sent = performance.now();
          const { deployVirtualMachine } = await graphql<{ deployVirtualMachine: { id: string } }>(
            server.url,
            'mutation($z: ID!, $s: ID!, $t: ID!, $n: String!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n) { id } }',
            { z: zone, s: offering, t: template, n: `bench-${n}` },
          );
          if ((await waitForJob(ws, deployVirtualMachine.id)) !== 'SUCCEEDED') failed++;
          latencies.push(performance.now() - sent);
        }
      }),
    );
    const deployRate = perSecond(DEPLOYS, started);
    const deployCpu = deployMeter.perUnit(DEPLOYS);
    if (failed > 0) throw new Error(`${failed} of ${DEPLOYS} deploy jobs failed`);
    report({ name: `deployVirtualMachine jobs completed (deploy+start), ${CLIENTS} clients`, value: deployRate, unit: 'jobs/s' });
    report({ name: 'deploy job latency p50 (mutation → SUCCEEDED pushed)', value: percentile(latencies, 50), unit: 'ms' });
    report({ name: 'deploy job latency p99', value: percentile(latencies, 99), unit: 'ms' });
    report({ name: 'deploy job CPU: server (main job, all threads)', value: deployCpu.server, unit: 'ms' });
    report({ name: 'deploy job CPU: client (this process: one POST, one subscription)', value: deployCpu.client, unit: 'ms' });

    // virtualMachine(id) against the bare server, the same client in turns, round by round.
    const page = await graphql<{ virtualMachines: { nodes: Array<{ id: string }>; totalCount: number } }>(server.url, '{ virtualMachines(first: 50) { totalCount nodes { id } } }');
    const ids = page.virtualMachines.nodes.map((n) => n.id);
    let i = 0;
    const cpu = { bareServer: [] as number[], bareClient: [] as number[], byIdServer: [] as number[] };
    const rates = await interleaved(rounds, {
      bare: async () => {
        const meter = cpuMeter(bare.process.child.pid!);
        const run = await requestRate(() => fetch(bare.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ ok }"}' }).then((r) => r.json()));
        const perRequest = meter.perUnit(run.count);
        cpu.bareServer.push(perRequest.server);
        cpu.bareClient.push(perRequest.client);
        return run.rate;
      },
      byId: async () => {
        const meter = cpuMeter(server.process.child.pid!);
        const run = await requestRate(() => graphql(server.url, 'query($id: ID!) { virtualMachine(id: $id) { id name state hostId } }', { id: ids[i++ % ids.length] }));
        cpu.byIdServer.push(meter.perUnit(run.count).server);
        return run.rate;
      },
    });
    report(spreadFigure(`bare express POST, ${CLIENTS} clients (limit)`, 'requests/s', rates.bare));
    report(spreadFigure('bare express CPU per request: server', 'ms', cpu.bareServer));
    report(spreadFigure('bare express CPU per request: client (this process)', 'ms', cpu.bareClient));
    report(ratioFigure(`virtualMachine(id) over HTTP, ${CLIENTS} clients`, 'requests/s', rates.byId, rates.bare));
    report(spreadFigure('virtualMachine(id) CPU per request: server', 'ms', cpu.byIdServer));

    const listLatency: number[] = [];
    for (let q = 0; q < 300; q++) {
      const sent = performance.now();
      await graphql(server.url, '{ virtualMachines(first: 50) { totalCount nodes { id name state hostId cpuNumber memory nics { macAddress } } } }');
      listLatency.push(performance.now() - sent);
    }
    report({ name: `virtualMachines(first: 50) latency p50, ${page.virtualMachines.totalCount.toLocaleString('en-US')} instances`, value: percentile(listLatency, 50), unit: 'ms' });
    report({ name: 'virtualMachines(first: 50) latency p99', value: percentile(listLatency, 99), unit: 'ms' });
  } finally {
    for (const ws of sockets) await ws.dispose();
    await server.process.kill();
    await bare.process.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
