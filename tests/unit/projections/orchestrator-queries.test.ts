// The read-model questions the orchestrator asks (host liveness, agent reports, resume, the expunge
// sweep), asked of the read model of a real stack's log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostNode } from '../../../projections/infrastructure/index.js';
import { listHosts, watchedHostStatus, watchedHostsUp } from '../../../projections/infrastructure/index.js';
import { destroyedInstances, findInstance, instanceIdByInstanceName } from '../../../projections/instances/queries.js';
import { instancesAwaitingUnopenedJobs } from '../../../projections/jobs/queries.js';
import { buildStackLog, type StackLog } from '../audit/stack-log.js';

describe('the orchestrator’s read-model queries', () => {
  let log: StackLog;
  let libvirtHost: HostNode;
  beforeAll(async () => {
    log = await buildStackLog();
    const [cluster] = (log.controlPlane.clusters(log.admin, {}).nodes as Array<{ id: string }>);
    libvirtHost = (await log.controlPlane.addHost(log.admin, {
      clusterId: cluster!.id,
      name: 'kvm-watched',
      driver: 'libvirt',
      url: 'qemu+ssh://10.0.0.9/system',
      username: 'root',
      password: 'secret',
      cpuNumber: 8,
      cpuSpeed: 2000,
      memory: 16_384,
    })) as HostNode;
  }, 60_000);
  afterAll(async () => {
    await log.stop();
    log.remove();
  });

  const db = () => log.stack.readModel.db;

  it('watches the heartbeats of hosts with an agent of their own, not of simulated ones', () => {
    const simulated = listHosts(db(), {}).nodes.filter((host) => host.driver === 'simulator');
    expect(simulated.length).toBeGreaterThan(0);
    expect(watchedHostsUp(db())).toEqual([libvirtHost.id]);
    expect(watchedHostStatus(db(), libvirtHost.id)).toBe('Up');
    for (const host of simulated) expect(watchedHostStatus(db(), host.id)).toBeUndefined();
    expect(watchedHostStatus(db(), 'no-such-host')).toBeUndefined();
  });

  it('finds an instance by the name its hypervisor knows it by', () => {
    const running = findInstance(db(), { kind: 'all' }, log.instances.running)!;
    expect(instanceIdByInstanceName(db(), running.instanceName)).toBe(running.id);
    expect(instanceIdByInstanceName(db(), 'i-2-999-VM')).toBeUndefined();
  });

  it('lists the destroyed instances for the expunge sweep, and no instance waiting on an unopened job', () => {
    expect(destroyedInstances(db())).toEqual([
      expect.objectContaining({ id: log.instances.destroyed, zoneId: log.demo.zoneId, accountId: log.admin.accountId, since: expect.any(String) }),
    ]);
    expect(instancesAwaitingUnopenedJobs(db())).toEqual([]);
  });
});
