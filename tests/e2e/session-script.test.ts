// The README's session is scripts/session.sh: it must run as a user runs it, with bash, curl and node
// against a server on a real port. Here it runs against the whole application in-process.
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getVm, startHarness, usageEvents, type Harness } from './harness.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'session.sh');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the script asynchronously: the server it talks to lives in this process's event loop. */
function runSession(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [SCRIPT],
      // Only what the script reads, plus the node running these tests first on the PATH.
      { env: { PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, HOME: process.env['HOME'] ?? '/tmp', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
});

describe('scripts/session.sh', () => {
  it('given the demo zone, when the session runs, then it deploys on demo-shared with an address, stops, and prints the usage events', async () => {
    const run = await runSession({ VMLEDGER_URL: h.url, VMLEDGER_API_KEY: h.adminKey, VM_NAME: 'web-1' });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const vmId = /^VM=(\S+)$/m.exec(run.stdout)?.[1];
    expect(vmId).toBeDefined();
    const vm = await getVm(h.admin, vmId!);
    expect(vm).toMatchObject({ name: 'web-1', state: 'Stopped', zoneId: h.demo.zoneId });
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { nics: Array<{ networkId: string; ipAddress: string | null }> } }>(
      'query($id: ID!) { virtualMachine(id: $id) { nics { networkId ipAddress } } }',
      { id: vmId },
    );
    expect(virtualMachine.nics).toHaveLength(1);
    expect(virtualMachine.nics[0]!.networkId).toBe(h.demo.networkIds.shared);
    expect(virtualMachine.nics[0]!.ipAddress).toMatch(/^10\.1\.0\.\d+$/);
    expect(run.stdout).toContain(`address ${virtualMachine.nics[0]!.ipAddress}`);
    expect(run.stdout).toMatch(/SUCCEEDED: web-1 Stopped/);

    // The usage events it printed are the instance's and its volume's, in log order.
    const printed = [...run.stdout.matchAll(/^(\d+) {2}(\S+) {2}/gm)].map((m) => ({ position: Number(m[1]), type: m[2] }));
    const volumeId = (await getVm(h.admin, vmId!))!.volumes[0]!.id;
    const logged = (await usageEvents(h.admin)).nodes
      .filter((e) => e.resourceId === vmId || e.resourceId === volumeId)
      .map((e) => ({ position: e.position, type: e.type }));
    expect(printed).toEqual(logged);
    expect(printed.map((e) => e.type)).toEqual(['VM.CREATE', 'VOLUME.CREATE', 'NETWORK.OFFERING.ASSIGN', 'VM.START', 'VM.STOP', 'NETWORK.OFFERING.REMOVE']);
  });

  it('given no server at the address, when the session runs, then it gives up after START_TIMEOUT_S and says where it looked', async () => {
    const run = await runSession({ VMLEDGER_URL: 'http://127.0.0.1:9/graphql', VMLEDGER_API_KEY: h.adminKey, START_TIMEOUT_S: '1' });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('no answer from http://127.0.0.1:9/healthz');
  });

  it('given a wrong API key, when the session runs, then it stops at the first request and says why', async () => {
    const run = await runSession({ VMLEDGER_URL: h.url, VMLEDGER_API_KEY: 'not-a-key' });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^UNAUTHENTICATED 401: /m);
    expect(run.stdout).not.toMatch(/^VM=/m);
  });
});
