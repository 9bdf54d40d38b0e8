import { isHostCapability, type HostCapability } from '../../../domain/agent-protocol/index.js';
import {
  hostState,
  totalCpu,
  type HostDriver,
  type HostResourceState,
  type HostState,
  type HostStatus,
  type SimulatorConfig,
} from '../../../domain/host/index.js';
import type { HypervisorType } from '../../../domain/zone/index.js';
import { stringList } from '../../sql.js';

export interface HostRow {
  id: string;
  name: string;
  zone_id: string;
  cluster_id: string;
  hypervisor: HypervisorType;
  driver: HostDriver;
  cpu_number: number;
  cpu_speed: number;
  memory: number;
  host_tags: string;
  url: string | null;
  username: string | null;
  simulator: string | null;
  status: HostStatus;
  resource_state: HostResourceState;
  used_cpu: number;
  used_memory: number;
  reservation_count: number;
  /** JSON list, in the protocol's order. */
  capabilities: string;
  removed: 0 | 1;
  created: string;
}

/** A host as the API shows it: CPU in MHz (cores × MHz per core), memory in MiB. */
export interface HostNode {
  readonly id: string;
  readonly name: string;
  readonly zoneId: string;
  readonly clusterId: string;
  readonly hypervisor: HypervisorType;
  readonly driver: HostDriver;
  /** The domain's `hostState()`: the operator's state when it restricts the host, else the agent's. */
  readonly state: HostState;
  readonly status: HostStatus;
  readonly resourceState: HostResourceState;
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  readonly hostTags: string[];
  readonly url: string | null;
  readonly username: string | null;
  readonly simulator: SimulatorConfig | null;
  readonly cpuTotal: number;
  readonly cpuAllocated: number;
  readonly cpuFree: number;
  readonly memoryTotal: number;
  readonly memoryAllocated: number;
  readonly memoryFree: number;
  readonly reservationCount: number;
  /** What the host's agent last reported it can do. */
  readonly capabilities: HostCapability[];
  readonly removed: boolean;
  readonly created: string;
}

export function hostNode(row: HostRow): HostNode {
  const cpuTotal = totalCpu({ cpuNumber: row.cpu_number, cpuSpeed: row.cpu_speed });
  return {
    id: row.id,
    name: row.name,
    zoneId: row.zone_id,
    clusterId: row.cluster_id,
    hypervisor: row.hypervisor,
    driver: row.driver,
    state: hostState({ status: row.status, resourceState: row.resource_state }),
    status: row.status,
    resourceState: row.resource_state,
    cpuNumber: row.cpu_number,
    cpuSpeed: row.cpu_speed,
    memory: row.memory,
    hostTags: stringList(row.host_tags),
    url: row.url,
    username: row.username,
    simulator: row.simulator === null ? null : (JSON.parse(row.simulator) as SimulatorConfig),
    cpuTotal,
    cpuAllocated: row.used_cpu,
    cpuFree: cpuTotal - row.used_cpu,
    memoryTotal: row.memory,
    memoryAllocated: row.used_memory,
    memoryFree: row.memory - row.used_memory,
    reservationCount: row.reservation_count,
    capabilities: capabilityList(row.capabilities),
    removed: row.removed === 1,
    created: row.created,
  };
}

/** The stored capability list; only the events' (checked) capabilities are ever stored. */
export function capabilityList(json: string): HostCapability[] {
  return stringList(json).filter(isHostCapability);
}
