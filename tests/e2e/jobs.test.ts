// asyncJobs (API.md "Leases and schedules"): the jobs a caller may see, newest first, filtered by
// instance, account, operation and status, paged; each naming the resource it acts on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployed, gqlError, runJob, startHarness, type Harness } from './harness.js';

interface JobNode {
  id: string;
  cmd: string;
  status: string;
  instanceId: string | null;
  accountId: string;
  resourceType: string;
  resourceId: string | null;
  step: string | null;
  progress: number | null;
  createdAt: string;
}

const JOBS = `query($instanceId: ID, $accountId: ID, $cmd: String, $status: JobStatus, $first: Int, $after: String) {
  asyncJobs(instanceId: $instanceId, accountId: $accountId, cmd: $cmd, status: $status, first: $first, after: $after) {
    nodes { id cmd status instanceId accountId resourceType resourceId step progress createdAt }
    pageInfo { hasNextPage endCursor } totalCount } }`;

describe('asyncJobs', () => {
  let h: Harness;
  let a: { id: string; key: string };
  let b: { id: string; key: string };
  let vmA: string;

  beforeAll(async () => {
    h = await startHarness();
    a = await h.createUser('jobs-user-a');
    b = await h.createUser('jobs-user-b');
    vmA = (await deployed(h, h.client(a.key), { name: 'jobs-a' })).id;
    await runJob(h, h.client(a.key), `mutation($id: ID!) { stopVirtualMachine(id: $id) { id } }`, { id: vmA });
    await runJob(h, h.client(a.key), `mutation($id: ID!) { startVirtualMachine(id: $id) { id } }`, { id: vmA });
    await deployed(h, h.client(b.key), { name: 'jobs-b' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const list = async (key: string, variables: Record<string, unknown> = {}) =>
    (await h.client(key).request<{ asyncJobs: { nodes: JobNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number } }>(JOBS, variables)).asyncJobs;

  it("lists a user's own jobs, newest first, each naming its resource and its last step", async () => {
    const jobs = await list(a.key);
    expect(jobs.nodes.map((j) => j.cmd)).toEqual(['startVirtualMachine', 'stopVirtualMachine', 'deployVirtualMachine']);
    expect(jobs.totalCount).toBe(3);
    for (const job of jobs.nodes) {
      expect(job).toMatchObject({ status: 'SUCCEEDED', accountId: a.id, instanceId: vmA, resourceType: 'VirtualMachine', resourceId: vmA, progress: 100 });
    }
    expect(jobs.nodes.map((j) => j.step)).toEqual(['STARTING', 'STOPPING', 'STARTING']);
    const times = jobs.nodes.map((j) => j.createdAt);
    expect(times).toEqual([...times].sort().reverse());
  });

  it('filters by instance, account, operation and status, and pages', async () => {
    expect((await list(h.adminKey, { instanceId: vmA })).totalCount).toBe(3);
    expect((await list(h.adminKey, { accountId: b.id })).nodes.map((j) => j.cmd)).toEqual(['deployVirtualMachine']);
    expect((await list(h.adminKey, { cmd: 'stopVirtualMachine', accountId: a.id })).nodes).toHaveLength(1);
    expect((await list(a.key, { status: 'FAILED' })).totalCount).toBe(0);
    const first = await list(a.key, { first: 2 });
    expect(first.nodes).toHaveLength(2);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await list(a.key, { first: 2, after: first.pageInfo.endCursor });
    expect(second.nodes.map((j) => j.cmd)).toEqual(['deployVirtualMachine']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it("never shows another account's jobs, whatever the filter", async () => {
    expect((await list(b.key, { instanceId: vmA })).totalCount).toBe(0);
    expect((await list(b.key, { accountId: a.id })).totalCount).toBe(0);
    expect((await list(b.key)).nodes.every((j) => j.accountId === b.id)).toBe(true);
  });

  it('refuses a status that is not a job status, and a page size out of range', async () => {
    expect((await gqlError(list(a.key, { status: 'DONE' }))).extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await gqlError(list(a.key, { first: 501 }))).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});
