import { describe, expect, it } from 'vitest';
import { AgentConfigError, DEFAULT_HEARTBEAT_INTERVAL_MS, migrationTargets, parseAgentConfig } from '../../../api/agent/agent-config.js';

const KEYS = '/etc/vmledger/agent-command-keys.json';

const host = (hostId: string, address: string) => ({
  hostId,
  address,
  sshPort: 2222,
  username: 'vmhost',
  privateKeyPath: '/etc/vmledger/id_ed25519',
  hostKeySha256: `SHA256:${'A'.repeat(43)}`,
  domainType: 'qemu',
  storagePath: '/var/lib/vmledger/images',
  migrationUri: `qemu+ssh://vmhost@${address}/system`,
  migrationAddress: address,
  nic: { mode: 'user' },
});

describe('agent configuration file', () => {
  it('reads hosts, peers, the bus and intervals, with defaults', () => {
    const config = parseAgentConfig({ commandKeysFile: KEYS, hosts: [host('h-a', '10.0.0.5')], peers: [{ hostId: 'h-b', migrationUri: 'qemu+tcp://10.0.0.6/system', migrationAddress: '10.0.0.6' }] }, 'agent.json');
    expect(config.busUrl).toBeUndefined();
    expect(config.heartbeatIntervalMs).toBe(DEFAULT_HEARTBEAT_INTERVAL_MS);
    expect(config.hosts.map((h) => [h.hostId, h.domainType, h.sshPort])).toEqual([['h-a', 'qemu', 2222]]);
    const target = migrationTargets(config);
    expect(target('h-b')).toEqual({ hostId: 'h-b', migrationUri: 'qemu+tcp://10.0.0.6/system', migrationAddress: '10.0.0.6' });
    expect(target('h-a')?.migrationUri).toBe('qemu+ssh://vmhost@10.0.0.5/system');
    expect(target('h-z')).toBeUndefined();
    expect(config.commandKeysFile).toBe(KEYS);
  });

  it.each([
    [{ hosts: [] }, 'agent.json.hosts must list at least one host'],
    // An agent checks every command's signature: it cannot run without the keys.
    [{ hosts: [host('h-a', '10.0.0.5')], commandKeysFile: undefined }, 'agent.json.commandKeysFile must be a non-empty string'],
    [{ hosts: [host('h-a', '10.0.0.5')], commandKeysFile: 'keys.json' }, 'agent.json.commandKeysFile must be an absolute path'],
    [{ hosts: [host('h-a', '10.0.0.5')], busUrl: 'http://broker' }, 'agent.json.busUrl must be an amqp:// or amqps:// URL'],
    [{ hosts: [host('h-a', '10.0.0.5')], heartbeatIntervalMs: 5 }, 'agent.json.heartbeatIntervalMs must be a whole number'],
    [{ hosts: [host('h-a', '10.0.0.5')], hearbeatIntervalMs: 5000 }, 'agent.json.hearbeatIntervalMs is not a setting here'],
    [{ hosts: [host('h-a', '10.0.0.5'), host('h-a', '10.0.0.6')] }, 'host h-a is listed twice'],
    [{ hosts: [host('h-a', '10.0.0.5')], peers: [{ hostId: 'h-a', migrationUri: 'qemu+tcp://x/system', migrationAddress: 'x' }] }, 'host h-a is listed twice'],
    [{ hosts: [host('h-a', '10.0.0.5')], peers: [{ hostId: 'h-b', migrationUri: 'nowhere', migrationAddress: 'x' }] }, 'agent.json.peers[0].migrationUri must be a libvirt connection URI'],
    [{ hosts: [{ ...host('h-a', '10.0.0.5'), privateKeyPath: undefined }] }, 'agent.json.hosts[0] needs password or privateKeyPath'],
    [[], 'agent.json must be an object'],
  ])('refuses %j naming what is wrong', (value, message) => {
    const file = Array.isArray(value) ? value : { commandKeysFile: KEYS, ...value };
    expect(() => parseAgentConfig(JSON.parse(JSON.stringify(file)), 'agent.json')).toThrow(AgentConfigError);
    expect(() => parseAgentConfig(JSON.parse(JSON.stringify(file)), 'agent.json')).toThrow(message);
  });
});
