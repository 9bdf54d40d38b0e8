// Async jobs as callers see them, and the pushes of asyncJobUpdated.
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import { jobIdOfStream } from '../../domain/job/index.js';
import { getJob, listJobs, type JobRow } from '../../projections/jobs/queries.js';
import type { Connection } from '../../projections/pagination.js';
import { db, guarded, visibilityOf, type ControlPlaneContext } from './context.js';
import type { Caller, JobListArgs, JobView } from './port.js';

export function jobView(row: JobRow): JobView {
  return {
    id: row.id,
    cmd: row.cmd,
    status: row.status,
    progress: row.progress,
    step: row.step,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    createdAt: row.createdAt,
    completedAt: row.completedAt,
    error: row.error,
    result: row.result,
    instanceId: row.instanceId,
    accountId: row.accountId,
  };
}

export function asyncJobs(context: ControlPlaneContext, caller: Caller, args: JobListArgs): Connection<JobView> {
  return guarded(() => {
    const page = listJobs(db(context), visibilityOf(context, caller), args, args);
    return { ...page, nodes: page.nodes.map(jobView) };
  });
}

export function findJob(context: ControlPlaneContext, caller: Caller, id: string): JobView | undefined {
  const row = getJob(db(context), visibilityOf(context, caller), id);
  return row && jobView(row);
}

/**
 * Watches jobs for subscribers: after every read-model commit, each watched job whose row moved is
 * pushed to its listeners. One read per watched job per commit, only while someone watches.
 */
export class JobWatcher {
  private readonly watched = new Map<string, { position: number; listeners: Set<(row: JobRow) => void> }>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly context: ControlPlaneContext) {}

  watch(caller: Caller, id: string, listener: (job: JobView) => void): () => void {
    const visibility = visibilityOf(this.context, caller);
    const first = getJob(db(this.context), visibility, id);
    let entry = this.watched.get(id);
    if (!entry) {
      entry = { position: first?.position ?? 0, listeners: new Set() };
      this.watched.set(id, entry);
    }
    const wrapped = (row: JobRow) => {
      // Visibility is checked once at subscribe time; a job never changes owner.
      if (first || getJob(db(this.context), visibility, id)) listener(jobView(row));
    };
    entry.listeners.add(wrapped);
    this.unsubscribe ??= this.context.readModel.onCommit((_position, events) => this.check(events));
    return () => {
      const current = this.watched.get(id);
      current?.listeners.delete(wrapped);
      if (current && current.listeners.size === 0) this.watched.delete(id);
      if (this.watched.size === 0) {
        this.unsubscribe?.();
        this.unsubscribe = undefined;
      }
    };
  }

  /** Only jobs whose stream the committed batch touched can have moved. */
  private check(events: readonly RecordedEvent[]): void {
    const touched = new Set<string>();
    for (const event of events) {
      const jobId = jobIdOfStream(event.stream);
      if (jobId !== undefined) touched.add(jobId);
    }
    for (const id of touched) {
      const entry = this.watched.get(id);
      if (!entry) continue;
      const row = getJob(db(this.context), { kind: 'all' }, id);
      if (!row || row.position <= entry.position) continue;
      entry.position = row.position;
      for (const listener of entry.listeners) listener(row);
    }
  }
}
