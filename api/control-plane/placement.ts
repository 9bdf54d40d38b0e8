// Where an instance runs is not its user's to know. CloudStack fills a VM's hostid, hostname and
// instancename only in the admins' full response view; placement is also exactly what a co-residency
// attack needs (is my instance on the same host as my target's?). A USER caller therefore gets
// hostId, lastHostId and instanceName as null, wherever an instance reaches it: queries, job results,
// job pushes, mutation results, the instance as of a moment.
//
// The same goes for what a host said when an operation failed on it: a failure's reason carries the
// agent's words (a remote command's stderr, `user@host:port`, storage paths). A USER reads a generic
// message with a reference (the job's or the event's id) by which an admin finds the whole reason.
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
    error: job.error === null ? null : { ...job.error, message: jobErrorShownToUser(job.id, job.error) },
  };
}

/** What a user reads instead of a failure's reason, as for any internal error: `reference` is what an admin looks it up by. */
function withReference(what: string, reference: string): string {
  return `${what} (reference ${reference})`;
}

/**
 * INTERNAL_ERROR is what a host's failure, a lost answer or anything unforeseen becomes (sagas/workflows/
 * finish.ts): its message is the host's. The other codes are vmledger's own words about the request
 * (capacity, a missing instance), which the user may read, hosts named as "a host".
 */
function jobErrorShownToUser(jobId: string, error: NonNullable<JobView['error']>): string {
  if (error.code === 'INTERNAL_ERROR') return withReference('The operation failed', jobId);
  return withoutHosts(error.message);
}

// The action events whose description ends in a failure's reason, after the first ': '
// (projections/events/action-events.ts writes them so).
const WITH_REASON =
  /^(Instance failed to start|Deployment failed, instance is in Error|Instance failed to stop|Instance failed to reboot|Expunge failed|Migration failed|Scaling failed|Deployment abandoned before the instance was recorded|Retrying the start elsewhere after (?:a host|host \S+) failed): (.*)$/s;
/** A reason in vmledger's own words about the request, which a user may read (see finish.ts). */
const CAPACITY_REASON = /^Insufficient capacity: /;

function eventDescriptionShownToUser(event: EventView): string {
  const description = withoutHosts(event.description);
  const withReason = WITH_REASON.exec(description);
  if (!withReason || CAPACITY_REASON.test(withReason[2]!)) return description;
  return withReference(withReason[1]!, event.id);
}

export function jobsShownTo(caller: Caller, page: Connection<JobView>): Connection<JobView> {
  return seesPlacement(caller) ? page : { ...page, nodes: page.nodes.map((job) => jobShownTo(caller, job)) };
}

/**
 * Failure reasons and audit descriptions name hosts ("host … did not answer"); a user reads "a host",
 * and instead of a failure's reason, a reference to it.
 */
export function eventsShownTo(caller: Caller, page: Connection<EventView>): Connection<EventView> {
  return seesPlacement(caller) ? page : { ...page, nodes: page.nodes.map((event) => ({ ...event, description: eventDescriptionShownToUser(event) })) };
}

const HOST_REFERENCE = /\bhost [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

function withoutHosts(text: string): string {
  return text.replace(HOST_REFERENCE, (match) => (match[0] === 'H' ? 'A host' : 'a host'));
}

/** Filtering by host would tell a user which of its instances share a host it has learnt of. */
export function refusePlacementFilter(caller: Caller, hostId: string | null | undefined): void {
  if (hostId != null && !seesPlacement(caller)) throw new ApiError('FORBIDDEN', 'Only admins may list instances by host', 'hostId');
}
