// Hosts: added to a cluster with their credentials kept in the secret store, and (simulated ones)
// handed to whoever starts their agent.
import type { SecretStore } from '../../../adapters/secrets/port.js';
import { HOST_DRIVERS, hostDecider, hostStream, SIMULATOR_OPERATIONS, type SimulatorConfig } from '../../../domain/host/index.js';
import { getHost, listHosts, type HostNode } from '../../../projections/infrastructure/index.js';
import type { Connection } from '../../../projections/pagination.js';
import { oneOf, optionalNumber, optionalString, optionalStringList, requiredEnum, requiredString } from '../args.js';
import { createClaimed } from '../claims.js';
import { db, envelopeOf, guarded, now, requireRootAdmin, settled, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';
import { badInput, page, readBack, requireCluster, zoneNameClaim, type Args, type ZoneFilter } from './shared.js';

/** What addHost needs beyond the context: where passwords go, and who starts a simulated host's agent. */
export interface InfrastructureServices {
  readonly secrets: SecretStore;
  /** Called once a `simulator` host exists, so the composition root can start the host and its agent. */
  readonly onHostAdded?: (host: HostNode) => Promise<void>;
}

/** CloudStack's simulator hosts report a fixed size when none is configured; these are the demo zone's. */
export const DEFAULT_SIMULATOR_HOST = { cpuNumber: 16, cpuSpeed: 2000, memory: 65_536 } as const;

function simulatorArgs(args: Args): Partial<SimulatorConfig> | null {
  const value: unknown = args.simulator;
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) badInput('simulator', 'simulator must be an object { startDelayMs, stopDelayMs, failOn }');
  const settings = value as Readonly<Record<string, unknown>>;
  const unknownKey = Object.keys(settings).find((key) => !['startDelayMs', 'stopDelayMs', 'failOn'].includes(key));
  if (unknownKey !== undefined) badInput(`simulator.${unknownKey}`, `simulator has no setting ${unknownKey}; use startDelayMs, stopDelayMs, failOn`);
  const startDelayMs = optionalNumber(settings, 'startDelayMs');
  const stopDelayMs = optionalNumber(settings, 'stopDelayMs');
  const failOn = optionalStringList(settings, 'failOn')?.map((op) => oneOf(op, SIMULATOR_OPERATIONS, 'simulator.failOn'));
  return {
    ...(startDelayMs != null ? { startDelayMs } : {}),
    ...(stopDelayMs != null ? { stopDelayMs } : {}),
    ...(failOn != null ? { failOn } : {}),
  };
}

/**
 * Adds a host to a cluster. The password goes to the secrets port and only its reference into the
 * log; if the host is refused, the secret is deleted again. A simulator host is then handed to
 * `onHostAdded` so that something actually answers its agent queue.
 */
export async function addHost(context: ControlPlaneContext, caller: Caller, args: Args, services: InfrastructureServices): Promise<HostNode> {
  requireRootAdmin(caller, 'addHost');
  const cluster = requireCluster(context, requiredString(args, 'clusterId'));
  const name = requiredString(args, 'name');
  const driver = requiredEnum(args, 'driver', HOST_DRIVERS);
  const hostTags = optionalStringList(args, 'hostTags');
  const url = optionalString(args, 'url') ?? null;
  const username = optionalString(args, 'username') ?? null;
  const password = optionalString(args, 'password') ?? null;
  const simulator = simulatorArgs(args);
  const compute = { cpuNumber: optionalNumber(args, 'cpuNumber') ?? null, cpuSpeed: optionalNumber(args, 'cpuSpeed') ?? null, memory: optionalNumber(args, 'memory') ?? null };
  const missing = (Object.keys(compute) as Array<keyof typeof compute>).find((key) => compute[key] === null);
  // A libvirt host's size would come from the host itself; vmledger asks for it rather than guess.
  if (driver === 'libvirt' && missing !== undefined) badInput(missing, `${missing} is required for a libvirt host`);

  const hostId = context.newId();
  const credentialRef = password === null ? null : await services.secrets.put(password);
  let positions: readonly number[];
  try {
    ({ positions } = await createClaimed(context, envelopeOf(context, caller, hostId), zoneNameClaim(cluster.zoneId, 'host', hostId, name), {
      stream: hostStream(hostId),
      decider: hostDecider,
      command: {
        type: 'AddHost',
        hostId,
        zoneId: cluster.zoneId,
        clusterId: cluster.id,
        hypervisor: cluster.hypervisor,
        name,
        driver,
        cpuNumber: compute.cpuNumber ?? DEFAULT_SIMULATOR_HOST.cpuNumber,
        cpuSpeed: compute.cpuSpeed ?? DEFAULT_SIMULATOR_HOST.cpuSpeed,
        memory: compute.memory ?? DEFAULT_SIMULATOR_HOST.memory,
        ...(hostTags ? { hostTags } : {}),
        url,
        username,
        credentialRef,
        simulator,
        at: now(context),
      },
    }));
  } catch (error) {
    if (credentialRef !== null) await services.secrets.delete(credentialRef);
    throw error;
  }
  await settled(context, positions);
  const host = readBack(getHost(db(context), hostId), 'host', hostId);
  if (host.driver === 'simulator' && services.onHostAdded) {
    try {
      await services.onHostAdded(host);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ApiError('INTERNAL_ERROR', `Host ${host.name} (${host.id}) was added, but its simulated hypervisor did not start: ${reason}`);
    }
  }
  return host;
}

export function hosts(context: ControlPlaneContext, caller: Caller, args: ZoneFilter & { readonly clusterId?: string | null }): Connection<HostNode> {
  requireRootAdmin(caller, 'hosts');
  return guarded(() => listHosts(db(context), { ...page(args), zoneId: args.zoneId ?? null, clusterId: args.clusterId ?? null }));
}
