// `vmledger agent`: serves the KVM hosts of its configuration file over RabbitMQ. It runs near its
// hosts (it drives them over SSH), on the control plane's machine or another one; the control plane
// only needs the broker in common with it.
import { randomUUID } from 'node:crypto';
import { AmqpBus } from '../../adapters/bus/amqp-bus.js';
import { startAgent } from '../../adapters/hypervisor/agent.js';
import { LibvirtDriver } from '../../adapters/hypervisor/libvirt/index.js';
import type { CommandKeyRing } from '../../adapters/hypervisor/command-signing.js';
import { migrationTargets, type AgentConfig } from './agent-config.js';
import { readCommandKeys, readVncPassword } from './secret-files.js';

export interface ServedHosts {
  /** Answers the commands under way, then lets go of the bus and the hosts. */
  stop(): Promise<void>;
}

export async function serveHosts(config: AgentConfig, busUrl: string, log: (line: string) => void): Promise<ServedHosts> {
  // Read before anything connects: a missing or unreadable file stops the agent at once.
  const commandKeys = (): Promise<CommandKeyRing> => readCommandKeys(config.commandKeysFile);
  await commandKeys();
  const vncPasswords = await Promise.all(config.hosts.map((host) => (host.vncPasswordFile === undefined ? undefined : readVncPassword(host.vncPasswordFile))));
  const bus = await AmqpBus.connect(busUrl, { onEvent: (event) => log(`bus: ${event.type}`) });
  const peers = migrationTargets(config);
  const drivers = config.hosts.map((host, i) => {
    const vncPassword = vncPasswords[i];
    return new LibvirtDriver({
      config: host,
      peers,
      onBackgroundError: (error) => log(`host ${host.hostId}: ${error instanceof Error ? error.message : String(error)}`),
      ...(vncPassword === undefined ? {} : { vncPassword }),
    });
  });
  try {
    // Each host answers once before the agent takes its commands: a wrong address, key or host key
    // stops the agent at once rather than failing every job sent its way.
    for (const driver of drivers) {
      const info = await driver.hostInfo();
      log(`host ${driver.hostId}: ${info.cpuNumber} cores × ${info.cpuSpeed} MHz, ${info.memory} MiB, can do ${info.capabilities.join(', ') || 'nothing beyond running domains'}`);
    }
    const agent = await startAgent({
      bus,
      drivers: new Map(drivers.map((driver) => [driver.hostId, driver])),
      clock: () => new Date(),
      newId: randomUUID,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      powerSyncIntervalMs: config.powerSyncIntervalMs,
      commandKeys,
      onError: (error, context) => log(`${context}: ${error instanceof Error ? error.message : String(error)}`),
    });
    log(`serving ${drivers.length} host(s): ${drivers.map((driver) => driver.hostId).join(', ')}`);
    return {
      async stop() {
        await agent.stop();
        await Promise.allSettled(drivers.map((driver) => driver.close()));
        await bus.close();
      },
    };
  } catch (error) {
    await Promise.allSettled(drivers.map((driver) => driver.close()));
    await bus.close();
    throw error;
  }
}
