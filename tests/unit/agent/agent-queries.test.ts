// The query path (adapters/hypervisor/queries.ts, agent-queries.ts, query-client.ts): a signed query
// reaches its host's agent and the answer comes back to whoever asked; an unsigned one is never
// answered; a silent host is an error that names it; only the host asked may answer.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../adapters/bus/memory-bus.js';
import { deadLetterQueue, type BusMessage } from '../../../adapters/bus/port.js';
import { startAgent, type Agent } from '../../../adapters/hypervisor/agent.js';
import { newCommandKey, signCommand } from '../../../adapters/hypervisor/command-signing.js';
import { ORCHESTRATOR_QUERY_REPLIES, agentQueryQueue, queryMessage } from '../../../adapters/hypervisor/queries.js';
import { AgentQueryClient, AgentQueryFailed, AgentQueryTimeout } from '../../../adapters/hypervisor/query-client.js';
import { SimulatedCloud } from '../../../adapters/hypervisor/simulator/index.js';
import { H1, H2, HOST, KEYS, commandKeys } from './harness.js';

const GiB = 1024 ** 3;

let bus: MemoryBus;
let agent: Agent | undefined;
let client: AgentQueryClient | undefined;

async function setUp(): Promise<{ cloud: SimulatedCloud }> {
  bus = new MemoryBus();
  const cloud = new SimulatedCloud();
  const driver = cloud.addHost(H1, HOST);
  driver.addUnmanagedDomain({ name: 'legacy-db', running: true, cpuNumber: 2, cpuSpeed: 1000, memory: 2048, disks: [{ capacity: 8 * GiB }], nics: [{ mac: '52:54:00:00:00:01', vlan: 100 }] });
  // A real clock: the query's validity and the client's deadline are both real time.
  agent = await startAgent({ bus, drivers: new Map([[H1, driver]]), clock: () => new Date(), newId: randomUUID, heartbeatIntervalMs: 600_000, powerSyncIntervalMs: 600_000, commandKeys, onError: () => {} });
  client = await AgentQueryClient.start({ bus, commandKeys: KEYS, clock: () => new Date(), newId: randomUUID });
  return { cloud };
}

afterEach(async () => {
  await client?.stop();
  await agent?.stop();
  await bus?.close();
  client = undefined;
  agent = undefined;
});

describe('agent queries', () => {
  it('a signed query is answered with the host\'s unmanaged domains', async () => {
    await setUp();
    const domains = await client!.listUnmanagedDomains(H1, null, 5_000);
    expect(domains).toMatchObject([{ name: 'legacy-db', powerState: 'PowerOn', cpuNumber: 2, memory: 2048, disks: [{ diskId: '0', capacity: 8 * GiB }], nics: [{ macAddress: '52:54:00:00:00:01', vlanId: 100 }] }]);
  });

  it('a signed InspectDiskImage is answered with what the host finds of the image, the domains that attach it among it', async () => {
    const { cloud } = await setUp();
    cloud.addDiskImage('/pool/a/web.qcow2', { virtualSize: 4 * GiB, backingFile: '/pool/a/base.qcow2' });
    expect(await client!.inspectDiskImage(H1, '/pool/a', 'web.qcow2', 5_000)).toEqual({
      path: '/pool/a/web.qcow2',
      exists: true,
      outsideStorage: false,
      format: 'qcow2',
      virtualSize: 4 * GiB,
      backingFile: '/pool/a/base.qcow2',
      encrypted: false,
      locked: false,
      usedBy: [],
      vmledgerFile: false,
    });
    expect(await client!.inspectDiskImage(H1, '/pool/a', 'gone.qcow2', 5_000)).toMatchObject({ exists: false, format: null });
  });

  it('an InspectDiskImage whose path would leave its pool is dead-lettered by the agent, never looked into', async () => {
    await setUp();
    const dead: string[] = [];
    await bus.declareQueue(agentQueryQueue(H1));
    await bus.consume(deadLetterQueue(agentQueryQueue(H1)), async (delivery) => {
      dead.push(delivery.message.type);
      await delivery.ack();
    });
    await expect(client!.inspectDiskImage(H1, '/pool/a', '../../etc/shadow', 300)).rejects.toThrow(AgentQueryTimeout);
    expect(dead).toEqual(['InspectDiskImage']);
  });

  it('a name the host does not know is the host\'s error, told to the asker', async () => {
    await setUp();
    await expect(client!.listUnmanagedDomains(H1, 'nope', 5_000)).rejects.toThrow(AgentQueryFailed);
    await expect(client!.listUnmanagedDomains(H1, 'nope', 5_000)).rejects.toThrow(/VM nope not found/);
  });

  it('a host whose agent does not answer is an error naming the host', async () => {
    await setUp();
    const silent = client!.listUnmanagedDomains(H2, null, 200);
    await expect(silent).rejects.toThrow(AgentQueryTimeout);
    await expect(silent).rejects.toThrow(`host ${H2} did not answer within 0 s`);
  });

  it('an unsigned query, or one signed with another key, is dead-lettered unanswered', async () => {
    await setUp();
    const replies: BusMessage[] = [];
    // Nobody else reads the replies: the test's client is stopped first.
    await client!.stop();
    client = undefined;
    await bus.consume(ORCHESTRATOR_QUERY_REPLIES, async (delivery) => {
      replies.push(delivery.message);
      await delivery.ack();
    });
    const dead: string[] = [];
    await bus.declareQueue(agentQueryQueue(H1));
    await bus.consume(deadLetterQueue(agentQueryQueue(H1)), async (delivery) => {
      dead.push(delivery.message.id);
      await delivery.ack();
    });
    const unsigned = queryMessage({ type: 'ListUnmanagedDomains', queryId: randomUUID(), hostId: H1, name: null });
    const now = new Date();
    const forged = signCommand(queryMessage({ type: 'ListUnmanagedDomains', queryId: randomUUID(), hostId: H1, name: null }), { current: newCommandKey() }, now, new Date(now.getTime() + 60_000));
    await bus.publish(agentQueryQueue(H1), unsigned);
    await bus.publish(agentQueryQueue(H1), forged);
    for (let i = 0; i < 100 && dead.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(dead.sort()).toEqual([unsigned.id, forged.id].sort());
    expect(replies).toEqual([]);
  });

  it('only the host asked may answer: an answer from another host for the query is dropped', async () => {
    await setUp();
    // A query to H2 (no agent) that a forged answer from H1 tries to settle.
    let queryId: string | undefined;
    const originalPublish = bus.publish.bind(bus);
    bus.publish = async (queue, message) => {
      if (queue === agentQueryQueue(H2)) queryId = (message.body as { queryId: string }).queryId;
      return originalPublish(queue, message);
    };
    const answer = client!.listUnmanagedDomains(H2, null, 300);
    for (let i = 0; i < 100 && queryId === undefined; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await originalPublish(ORCHESTRATOR_QUERY_REPLIES, queryMessage({ type: 'AgentQueryReply', queryId: queryId!, hostId: H1, query: 'ListUnmanagedDomains', outcome: 'succeeded', domains: [] }));
    await expect(answer).rejects.toThrow(AgentQueryTimeout);
  });
});
