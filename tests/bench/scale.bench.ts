// Issue 19's figures: the main job over logs of 10,000 and 100,000 instances (and 1,000,000 with
// BENCH_SCALE_MAX=1000000), each built once by scale-generate.ts through the real control plane and
// sagas and kept for later runs (scale-log.ts). Every figure is printed as it is measured, its
// target in its name, and the sizes side by side at the end (on stderr, which --json leaves alone).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { MAIN_JOB_NODE_OPTIONS } from '../../api/config.js';
import { ROOT_ADMIN_ACCOUNT_ID } from '../../api/control-plane/accounts.js';
import { launch, PROJECT_ROOT, type Launched } from '../support/child-process.js';
import { percentile } from './latency.js';
import { perSecond, type Figure } from './report.js';
import type { SuiteContext } from './runner.js';
import { SCALE_ADMIN_KEY } from './scale-admin-key.js';
import { scaleLog } from './scale-log.js';
import { graphqlAs, waitForJob } from './graphql-client.js';

const CLIENTS = 64;
/** Deploys after start-up at each size, through GraphQL, before the steady RSS is read. */
const DEPLOYS = Number(process.env.BENCH_SCALE_DEPLOYS ?? 10_000);
const SAMPLES = 200;
/**
 * Requests of each kind sent before the samples and not counted. The first requests of a query
 * after a start run cold code (over the 100,000 log the first list took 57 ms, the next ones 22, 21
 * and 18): with 200 samples those few would be the p99, a figure of the start, not of the list.
 */
const WARM_UP = 20;
/** A start-up (or a rebuild) that takes longer than this fails the size. */
const LAUNCH_TIMEOUT_MS = 60 * 60_000;

/** The sizes to run: BENCH_SCALE_SIZES (a comma list) or 10,000 and 100,000, and 1,000,000 up to BENCH_SCALE_MAX. */
export function scaleSizes(env: NodeJS.ProcessEnv): number[] {
  if (env.BENCH_SCALE_SIZES) return env.BENCH_SCALE_SIZES.split(',').map((text) => positive('BENCH_SCALE_SIZES', text.trim()));
  const max = env.BENCH_SCALE_MAX ? positive('BENCH_SCALE_MAX', env.BENCH_SCALE_MAX) : 100_000;
  return [10_000, 100_000, 1_000_000].filter((size) => size <= max);
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be whole numbers of at least 1, got ${JSON.stringify(text)}`);
  return value;
}

/** One figure of one size, and the target for it (printed beside it). */
interface Row {
  readonly key: string;
  readonly unit: string;
  readonly target: string;
}

const ROWS = {
  rebuild: { key: 'read-model rebuild (start-up without one)', unit: 'ms', target: '—' },
  startup: { key: 'main-job start-up over a caught-up read model (spawn → listening)', unit: 'ms', target: '≤ 5,000' },
  startupRss: { key: 'main-job RSS after start-up', unit: 'MiB', target: '≤ 512' },
  firstDeploy: { key: 'first deploy after start: mutation → SUCCEEDED', unit: 'ms', target: '≤ 100' },
  firstDeployMutation: { key: 'first deploy after start: the mutation alone', unit: 'ms', target: '≤ 100' },
  firstDeployRss: { key: 'main-job RSS after the first deploy', unit: 'MiB', target: '≤ 512' },
  listP50: { key: 'virtualMachines(first: 50) p50', unit: 'ms', target: '—' },
  listP99: { key: 'virtualMachines(first: 50) p99', unit: 'ms', target: '≤ 10' },
  getP50: { key: 'virtualMachine(id) p50', unit: 'ms', target: '—' },
  getP99: { key: 'virtualMachine(id) p99', unit: 'ms', target: '≤ 10' },
  filteredP99: { key: 'virtualMachines(accountId, state: Running) p99', unit: 'ms', target: '≤ 20' },
  keywordP99: { key: 'virtualMachines(keyword, first: 50) p99', unit: 'ms', target: '≤ 20' },
  deployRate: { key: `deploy+start jobs, ${CLIENTS} GraphQL clients`, unit: 'jobs/s', target: '≥ 90 % of 10,000\'s' },
  steadyRss: { key: `main-job RSS after ${DEPLOYS.toLocaleString('en-US')} more deploys`, unit: 'MiB', target: '≤ 512' },
  bytesPerEvent: { key: 'event log bytes per event', unit: 'bytes', target: '≤ 600' },
  logPerInstance: { key: 'event log bytes per instance', unit: 'bytes', target: '—' },
  modelPerInstance: { key: 'read model bytes per instance', unit: 'bytes', target: '—' },
  auditVerify: { key: 'vmledger audit verify', unit: 'ms', target: '—' },
  build: { key: 'building the log (absent when reused)', unit: 's', target: '—' },
} as const satisfies Record<string, Row>;

const graphql = graphqlAs(SCALE_ADMIN_KEY);

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) / 1024;
}

/** Milliseconds of each of SAMPLES sequential requests, after WARM_UP more. */
async function latencies(request: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARM_UP; i++) await request(SAMPLES + i);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const sent = performance.now();
    await request(i);
    samples.push(performance.now() - sent);
  }
  return samples;
}

async function untilDone(url: string, jobId: string): Promise<string> {
  for (;;) {
    const { asyncJob } = await graphql<{ asyncJob: { status: string } | null }>(url, 'query($id: ID!) { asyncJob(id: $id) { status } }', { id: jobId });
    if (asyncJob && asyncJob.status !== 'PENDING') return asyncJob.status;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}


const DEPLOY = 'mutation($z: ID!, $s: ID!, $t: ID!, $n: String!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $s, templateId: $t, name: $n) { id } }';

async function deployTargets(url: string): Promise<{ z: string; s: string; t: string }> {
  const { zones, serviceOfferings, templates } = await graphql<{
    zones: { nodes: Array<{ id: string; name: string }> };
    serviceOfferings: { nodes: Array<{ id: string; name: string }> };
    templates: { nodes: Array<{ id: string; name: string }> };
  }>(url, '{ zones { nodes { id name } } serviceOfferings { nodes { id name } } templates { nodes { id name } } }');
  return {
    z: zones.nodes.find((z) => z.name === 'scale-zone')!.id,
    s: serviceOfferings.nodes.find((o) => o.name === 'Small Instance')!.id,
    t: templates.nodes.find((t) => t.name === 'scale-linux')!.id,
  };
}

/** The main job as `npm start` runs it: the built JavaScript (tsx would add seconds of compiling to every start-up), with its heap. */
async function launchOn(dataDir: string): Promise<{ process: Launched; url: string }> {
  const env = { PORT: '0', HOST: '127.0.0.1', VMLEDGER_DATA_DIR: dataDir, VMLEDGER_ADMIN_API_KEY: SCALE_ADMIN_KEY, VMLEDGER_DEMO: '0' };
  const { process: launched, match } = await launch([...MAIN_JOB_NODE_OPTIONS, join(PROJECT_ROOT, 'dist', 'api', 'main.js')], env, /listening on (http:\/\/\S+\/graphql)/, LAUNCH_TIMEOUT_MS);
  return { process: launched, url: match[1]! };
}

function fileBytes(dir: string, prefix: string): number {
  return readdirSync(dir)
    .filter((name) => name.startsWith(prefix))
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

async function measureSize(size: number, figure: (row: Row, value: number) => void): Promise<void> {
  const log = await scaleLog(size);
  if (log.builtMs > 0) figure(ROWS.build, log.builtMs / 1000);
  const events = new Database(join(log.dir, 'events.sqlite'), { readonly: true });
  const eventCount = (events.prepare('SELECT max(position) AS head FROM events').get() as { head: number }).head;
  events.close();
  figure(ROWS.bytesPerEvent, fileBytes(log.dir, 'events.sqlite') / eventCount);
  figure(ROWS.logPerInstance, fileBytes(log.dir, 'events.sqlite') / size);
  figure(ROWS.modelPerInstance, fileBytes(log.dir, 'readmodel-') / size);

  // The built log is kept as it is: each run works on a copy, which its deploys then grow.
  const work = mkdtempSync(join(tmpdir(), `vmledger-bench-scale-run-${size}-`));
  try {
    cpSync(log.dir, work, { recursive: true });
    // The log's read model may be of an older projection version than this build's, so the first
    // launch is always a rebuild: it is timed as one, and the start-up that follows is a restart
    // over a caught-up read model, as an operator's would be.
    for (const name of readdirSync(work)) if (name.startsWith('readmodel-')) rmSync(join(work, name));
    const rebuilding = performance.now();
    const rebuilt = await launchOn(work);
    figure(ROWS.rebuild, performance.now() - rebuilding);
    await rebuilt.process.kill();
    const spawned = performance.now();
    const server = await launchOn(work);
    figure(ROWS.startup, performance.now() - spawned);
    const pid = server.process.child.pid!;
    const sockets: Client[] = [];
    try {
      figure(ROWS.startupRss, rssMiB(pid));
      const targets = await deployTargets(server.url);
      const sent = performance.now();
      const first = await graphql<{ deployVirtualMachine: { id: string } }>(server.url, DEPLOY, { ...targets, n: 'scale-first-after-start' });
      figure(ROWS.firstDeployMutation, performance.now() - sent);
      const status = await untilDone(server.url, first.deployVirtualMachine.id);
      if (status !== 'SUCCEEDED') throw new Error(`the first deployment after the start ${status}`);
      figure(ROWS.firstDeploy, performance.now() - sent);
      figure(ROWS.firstDeployRss, rssMiB(pid));

      const { virtualMachines } = await graphql<{ virtualMachines: { nodes: Array<{ id: string }> } }>(server.url, '{ virtualMachines(first: 50) { nodes { id } } }');
      const ids = virtualMachines.nodes.map((n) => n.id);
      const list = await latencies(() => graphql(server.url, '{ virtualMachines(first: 50) { totalCount nodes { id name state hostId cpuNumber memory nics { macAddress } } } }'));
      figure(ROWS.listP50, percentile(list, 50));
      figure(ROWS.listP99, percentile(list, 99));
      const get = await latencies((i) => graphql(server.url, 'query($id: ID!) { virtualMachine(id: $id) { id name state hostId } }', { id: ids[i % ids.length] }));
      figure(ROWS.getP50, percentile(get, 50));
      figure(ROWS.getP99, percentile(get, 99));
      const filtered = await latencies(() =>
        graphql(server.url, 'query($a: ID!) { virtualMachines(accountId: $a, state: Running, first: 50) { nodes { id name state } } }', { a: ROOT_ADMIN_ACCOUNT_ID }),
      );
      figure(ROWS.filteredP99, percentile(filtered, 99));
      // A name that matches one instance in each size's log, a different one each time.
      const keyword = await latencies((i) => graphql(server.url, 'query($k: String!) { virtualMachines(keyword: $k, first: 50) { nodes { id name } } }', { k: `scale-${(i * 7919) % size}` }));
      figure(ROWS.keywordP99, percentile(keyword, 99));

      const wsUrl = server.url.replace(/^http/, 'ws');
      for (let c = 0; c < CLIENTS; c++) {
        sockets.push(createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { Authorization: `Bearer ${SCALE_ADMIN_KEY}` }, lazy: false, retryAttempts: 0 }));
      }
      let next = 0;
      let failed = 0;
      const started = performance.now();
      await Promise.all(
        sockets.map(async (ws) => {
          while (next < DEPLOYS) {
            const n = next++;
            const { deployVirtualMachine } = await graphql<{ deployVirtualMachine: { id: string } }>(server.url, DEPLOY, { ...targets, n: `scale-more-${n}` });
            if ((await waitForJob(ws, deployVirtualMachine.id)) !== 'SUCCEEDED') failed++;
          }
        }),
      );
      if (failed > 0) throw new Error(`${failed} of ${DEPLOYS} deploy jobs failed`);
      figure(ROWS.deployRate, perSecond(DEPLOYS, started));
      figure(ROWS.steadyRss, rssMiB(pid));
    } finally {
      for (const ws of sockets) await ws.dispose();
      await server.process.kill();
    }

    // BENCH_SCALE_SKIP_SLOW=1: the memory and latency figures only (audit verify reads the whole log).
    if (process.env.BENCH_SCALE_SKIP_SLOW === '1') return;
    const verifying = performance.now();
    execFileSync(process.execPath, [join(PROJECT_ROOT, 'dist', 'api', 'cli.js'), 'audit', 'verify', '--data-dir', work], { cwd: PROJECT_ROOT, stdio: 'ignore' });
    figure(ROWS.auditVerify, performance.now() - verifying);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function scaleFigures({ report }: SuiteContext): Promise<void> {
  const sizes = scaleSizes(process.env);
  // What `npm start` builds before it starts (the server only: the console is not measured).
  execFileSync(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  const table = new Map<string, Map<number, number>>();
  for (const size of sizes) {
    await measureSize(size, (row, value) => {
      const figure: Figure = { name: `${size.toLocaleString('en-US')}: ${row.key} [${row.target}]`, value, unit: row.unit };
      report(figure);
      if (!table.has(row.key)) table.set(row.key, new Map());
      table.get(row.key)!.set(size, value);
    });
  }
  // The sizes side by side, each row with its target.
  const format = (value: number | undefined) => (value === undefined ? '—' : Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2));
  const header = ['figure'.padEnd(50), 'unit'.padEnd(7), ...sizes.map((size) => size.toLocaleString('en-US').padStart(12)), '  target'];
  const lines = [header.join(' ')];
  for (const row of Object.values(ROWS) as Row[]) {
    const values = table.get(row.key);
    lines.push([row.key.padEnd(50), row.unit.padEnd(7), ...sizes.map((size) => format(values?.get(size)).padStart(12)), `  ${row.target}`].join(' '));
  }
  process.stderr.write(`\nscale figures side by side:\n${lines.join('\n')}\n`);
}
