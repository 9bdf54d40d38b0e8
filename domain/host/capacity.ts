// The single definition of "fits on this host", shared by the host aggregate (which enforces it when a
// reservation is appended) and the allocation planner (which predicts it). If the two disagreed, the
// planner could keep choosing a host whose stream then refuses the reservation.

export interface ComputeResources {
  readonly cpuNumber: number;
  /** MHz per core. */
  readonly cpuSpeed: number;
  /** MiB. */
  readonly memory: number;
}

export interface HostCapacity {
  readonly cpuNumber: number;
  readonly cpuSpeed: number;
  readonly memory: number;
  /** MHz in use: the sum of cores × MHz over the reservations. */
  readonly usedCpu: number;
  /** MiB in use. */
  readonly usedMemory: number;
}

/** Total CPU in MHz: cores × MHz per core (no overcommit). */
export function totalCpu(host: Pick<HostCapacity, 'cpuNumber' | 'cpuSpeed'>): number {
  return host.cpuNumber * host.cpuSpeed;
}

export function requestedCpu(request: ComputeResources): number {
  return request.cpuNumber * request.cpuSpeed;
}

/**
 * Why `request` does not fit on `host`, or undefined when it does. Like CloudStack's
 * CapacityManager.checkIfHostHasCpuCapability + checkIfHostHasCapacity: the instance needs no more cores
 * and no faster cores than the host has, and its cores × MHz and memory must fit in what is free.
 */
export function capacityShortfall(host: HostCapacity, request: ComputeResources): string | undefined {
  if (request.cpuNumber > host.cpuNumber) return `needs ${request.cpuNumber} cores but the host has ${host.cpuNumber}`;
  if (request.cpuSpeed > host.cpuSpeed) return `needs ${request.cpuSpeed} MHz cores but the host's run at ${host.cpuSpeed} MHz`;
  const freeCpu = totalCpu(host) - host.usedCpu;
  if (requestedCpu(request) > freeCpu) return `needs ${requestedCpu(request)} MHz CPU but only ${freeCpu} MHz is free`;
  const freeMemory = host.memory - host.usedMemory;
  if (request.memory > freeMemory) return `needs ${request.memory} MiB memory but only ${freeMemory} MiB is free`;
  return undefined;
}

export function describeResources(request: ComputeResources): string {
  return `${request.cpuNumber} × ${request.cpuSpeed} MHz CPU and ${request.memory} MiB memory`;
}
