// Where an instance runs is not its user's to know. CloudStack fills a VM's hostid, hostname and
// instancename only in the admins' full response view; placement is also exactly what a co-residency
// attack needs (is my instance on the same host as my target's?). A USER caller therefore gets
// hostId, lastHostId and instanceName as null, wherever an instance reaches it: queries, job results,
// job pushes, mutation results, the instance as of a moment.
import type { EventView } from '../../projections/events/queries.js';
import type { VirtualMachineView } from '../../projections/instances/view.js';
import type { Connection } from '../../projections/pagination.js';
import { ApiError, type Caller, type JobView } from './port.js';

function seesPlacement(caller: Caller): boolean {
  return caller.role !== 'USER';
}

export function instanceShownTo(caller: Caller, view: VirtualMachineView): VirtualMachineView;
export function instanceShownTo(caller: Caller, view: VirtualMachineView | undefined): VirtualMachineView | undefined;
export function instanceShownTo(caller: Caller, view: VirtualMachineView | undefined): VirtualMachineView | undefined {
  if (view === undefined || seesPlacement(caller)) return view;
  return { ...view, hostId: null, lastHostId: null, instanceName: null };
}

export function instancesShownTo(caller: Caller, page: Connection<VirtualMachineView>): Connection<VirtualMachineView> {
  return seesPlacement(caller) ? page : { ...page, nodes: page.nodes.map((view) => instanceShownTo(caller, view)) };
}

export function jobShownTo(caller: Caller, job: JobView): JobView;
export function jobShownTo(caller: Caller, job: JobView | undefined): JobView | undefined;
export function jobShownTo(caller: Caller, job: JobView | undefined): JobView | undefined {
  if (job === undefined || seesPlacement(caller)) return job;
  return {
    ...job,
    result: job.result === null ? null : instanceShownTo(caller, job.result),
    error: job.error === null ? null : { ...job.error, message: withoutHosts(job.error.message) },
  };
}

export function jobsShownTo(caller: Caller, page: Connection<JobView>): Connection<JobView> {
  return seesPlacement(caller) ? page : { ...page, nodes: page.nodes.map((job) => jobShownTo(caller, job)) };
}

/** Failure reasons and audit descriptions name hosts ("host … did not answer"); a user reads "a host". */
export function eventsShownTo(caller: Caller, page: Connection<EventView>): Connection<EventView> {
  return seesPlacement(caller) ? page : { ...page, nodes: page.nodes.map((event) => ({ ...event, description: withoutHosts(event.description) })) };
}

const HOST_REFERENCE = /\bhost [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

function withoutHosts(text: string): string {
  return text.replace(HOST_REFERENCE, (match) => (match[0] === 'H' ? 'A host' : 'a host'));
}

/** Filtering by host would tell a user which of its instances share a host it has learnt of. */
export function refusePlacementFilter(caller: Caller, hostId: string | null | undefined): void {
  if (hostId != null && !seesPlacement(caller)) throw new ApiError('FORBIDDEN', 'Only admins may list instances by host', 'hostId');
}
