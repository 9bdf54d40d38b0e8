// The external host's listing on the query path (issue 16 items 3 and 5): the password is held by
// reference in the secrets port, travels to the agent sealed for that one query (never in clear on
// the bus), is opened by the agent for the login only, and a sealed secret does not open for
// another query or under another key.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../adapters/bus/memory-bus.js';
import type { BusMessage } from '../../../adapters/bus/port.js';
import { startAgent, type Agent } from '../../../adapters/hypervisor/agent.js';
import { newCommandKey, rotateCommandKeys } from '../../../adapters/hypervisor/command-signing.js';
import { AgentQueryClient, AgentQueryFailed } from '../../../adapters/hypervisor/query-client.js';
import { openSecret, sealSecret } from '../../../adapters/hypervisor/sealed-secret.js';
import { SimulatedCloud } from '../../../adapters/hypervisor/simulator/index.js';
import { MemorySecretStore } from '../../../adapters/secrets/memory-secret-store.js';
import { H1, HOST, KEYS, commandKeys } from './harness.js';

const PASSWORD = 'pw-on-the-wire-0c4b7e21';
const REMOTE = { host: '10.9.0.7', port: 22, username: 'ops' };

let bus: MemoryBus;
let agent: Agent | undefined;
let client: AgentQueryClient | undefined;

async function setUp(): Promise<{ secrets: MemorySecretStore; published: BusMessage[] }> {
  bus = new MemoryBus();
  const published: BusMessage[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (queue, message) => {
    published.push(message);
    return publish(queue, message);
  };
  const cloud = new SimulatedCloud();
  const driver = cloud.addHost(H1, HOST);
  cloud.addExternalHost(REMOTE.host, { username: 'ops', password: PASSWORD, domains: [{ name: 'old-vm', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: 1 << 30 }], nics: [] }] });
  agent = await startAgent({ bus, drivers: new Map([[H1, driver]]), clock: () => new Date(), newId: randomUUID, heartbeatIntervalMs: 600_000, powerSyncIntervalMs: 600_000, commandKeys, onError: () => {} });
  const secrets = new MemorySecretStore();
  client = await AgentQueryClient.start({ bus, commandKeys: KEYS, clock: () => new Date(), newId: randomUUID, secrets });
  return { secrets, published };
}

afterEach(async () => {
  await client?.stop();
  await agent?.stop();
  await bus?.close();
  client = undefined;
  agent = undefined;
});

describe('ListRemoteDomains on the query path', () => {
  it('given a password held by reference, when the agent lists the external host, then it logs in with it and no bus message holds it in clear', async () => {
    const { secrets, published } = await setUp();
    const ref = await secrets.put(PASSWORD);
    const domains = await client!.listRemoteDomains(H1, REMOTE, ref, 5_000);
    expect(domains.map((d) => [d.name, d.powerState])).toEqual([['old-vm', 'PowerOff']]);
    const query = published.find((message) => message.type === 'ListRemoteDomains');
    expect(query).toBeDefined();
    expect(JSON.stringify(published).includes(PASSWORD)).toBe(false);
    expect(JSON.stringify(published).includes(ref)).toBe(false);
  });

  it('given a reference the secrets port no longer holds, then nothing is sent and the error does not name a secret', async () => {
    const { published } = await setUp();
    await expect(client!.listRemoteDomains(H1, REMOTE, 'deleted-ref', 5_000)).rejects.toThrow(/no longer held/);
    expect(published.some((message) => message.type === 'ListRemoteDomains')).toBe(false);
  });

  it('given a wrong password, then the host\'s refusal comes back without it', async () => {
    const { secrets } = await setUp();
    const wrong = 'pw-wrong-9a8b7c6d';
    const failure = client!.listRemoteDomains(H1, REMOTE, await secrets.put(wrong), 5_000);
    await expect(failure).rejects.toThrow(AgentQueryFailed);
    await expect(failure).rejects.toThrow(/authentication failed/);
    await failure.catch((error: Error) => expect(`${error.message} ${error.stack ?? ''}`.includes(wrong)).toBe(false));
  });
});

describe('sealed secrets', () => {
  const ring = { current: newCommandKey() };

  it('given a secret sealed for a query, when opened for that query, then it is the secret', () => {
    expect(openSecret(sealSecret('s3cret', ring, 'q1'), ring, 'q1')).toBe('s3cret');
  });

  it('given a secret sealed for one query, when opened for another, then it does not open and the error quotes nothing of it', () => {
    const sealed = sealSecret('s3cret', ring, 'q1');
    expect(() => openSecret(sealed, ring, 'q2')).toThrow(/does not open/);
    expect(() => openSecret({ ...sealed, box: `${sealed.box.slice(0, -2)}AA` }, ring, 'q1')).toThrow(/does not open/);
  });

  it('given a rotated ring, then a secret sealed under the previous key still opens, and one under an unknown key is refused', () => {
    const sealed = sealSecret('s3cret', ring, 'q1');
    expect(openSecret(sealed, rotateCommandKeys(ring), 'q1')).toBe('s3cret');
    expect(() => openSecret(sealed, { current: newCommandKey() }, 'q1')).toThrow(/not among this agent's keys/);
  });
});
