// VMware → KVM conversions as CloudStack's listImportVmTasks shows them (ImportVmTask): one row per
// conversion job, from the instance's import request (source, hosts, when) and the job's steps and
// progress, to the import's outcome. Only imports with a VMware source make a row; the job events of
// every other job update nothing.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { JOB_STREAM_PREFIX, type JobEvent } from '../../domain/job/index.js';
import { INSTANCE_STREAM_PREFIX } from '../../domain/instance/stream.js';
import type { InstanceEvent } from '../../domain/instance/index.js';
import type { Projection, ReadModelWriter } from '../projection.js';

/** A task's steps as vmledger names them (the conversion workflow's steps, then how it ended). */
export const IMPORT_VM_TASK_STEPS = ['PREPARING', 'EXPORTING', 'CONVERTING', 'IMPORTING', 'COMPLETED', 'FAILED'] as const;

function enterStep(db: ReadModelWriter, jobId: string, step: string, at: string): void {
  // A new step restarts the step's clock (CloudStack's stepduration); the same step keeps it.
  db.run(
    `UPDATE import_vm_tasks SET step_started = CASE WHEN step = ? THEN step_started ELSE ? END, step = ?, last_updated = ? WHERE id = ? AND state = 'Running'`,
    step,
    at,
    step,
    at,
    jobId,
  );
}

export const importVmTasksProjection: Projection = {
  name: 'import_vm_tasks',
  version: 1,
  filter: { streamNamePrefixes: [INSTANCE_STREAM_PREFIX, JOB_STREAM_PREFIX] },
  schema: `
    CREATE TABLE import_vm_tasks (
      id               TEXT PRIMARY KEY,
      zone_id          TEXT NOT NULL,
      account_id       TEXT NOT NULL,
      instance_id      TEXT NOT NULL,
      display_name     TEXT NOT NULL,
      source_host      TEXT NOT NULL,
      source_vm_name   TEXT NOT NULL,
      convert_host_id  TEXT NOT NULL,
      import_host_id   TEXT NOT NULL,
      state            TEXT NOT NULL,
      step             TEXT NOT NULL,
      progress         INTEGER NOT NULL DEFAULT 0,
      failure          TEXT,
      created          TEXT NOT NULL,
      step_started     TEXT NOT NULL,
      last_updated     TEXT NOT NULL,
      completed        TEXT
    );
    CREATE INDEX import_vm_tasks_by_zone ON import_vm_tasks (zone_id, created, id);
  `,
  handle(event, db) {
    if (event.stream.startsWith(JOB_STREAM_PREFIX)) {
      const job = toDomainEvent<JobEvent>(event);
      const jobId = event.stream.slice(JOB_STREAM_PREFIX.length);
      if (job.type === 'JobAgentCommandIssued' && job.data.progress) {
        enterStep(db, jobId, job.data.progress.step, job.data.issuedAt);
        db.run(`UPDATE import_vm_tasks SET progress = ? WHERE id = ? AND state = 'Running'`, job.data.progress.progress, jobId);
      } else if (job.type === 'JobAgentProgressed') {
        enterStep(db, jobId, job.data.progress.step, job.data.reportedAt);
        db.run(`UPDATE import_vm_tasks SET progress = ? WHERE id = ? AND state = 'Running'`, job.data.progress.progress, jobId);
      }
      return;
    }
    const instance = toDomainEvent<InstanceEvent>(event);
    const at = typeof event.metadata['occurredAt'] === 'string' ? event.metadata['occurredAt'] : event.recordedAt;
    switch (instance.type) {
      case 'InstanceImportRequested': {
        const d = instance.data;
        if (!d.vmware) return;
        db.run(
          `INSERT OR IGNORE INTO import_vm_tasks (id, zone_id, account_id, instance_id, display_name, source_host, source_vm_name, convert_host_id, import_host_id, state, step, created, step_started, last_updated)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'Running', 'PREPARING', ?, ?, ?)`,
          d.jobId,
          d.zoneId,
          d.accountId,
          d.instanceId,
          d.displayName,
          d.vmware.remote.host,
          d.vmware.vmName,
          d.vmware.convertHostId,
          d.hostId,
          d.created,
          d.created,
          d.created,
        );
        return;
      }
      case 'InstanceImported':
        db.run(
          `UPDATE import_vm_tasks SET state = 'Completed', step = 'COMPLETED', progress = 100, step_started = ?, last_updated = ?, completed = ? WHERE id = ? AND state = 'Running'`,
          at,
          at,
          at,
          instance.data.jobId,
        );
        return;
      case 'InstanceImportFailed':
        db.run(
          `UPDATE import_vm_tasks SET state = 'Failed', step = 'FAILED', failure = ?, step_started = ?, last_updated = ?, completed = ? WHERE id = ? AND state = 'Running'`,
          instance.data.reason,
          at,
          at,
          at,
          instance.data.jobId,
        );
        return;
      default:
        return;
    }
  },
};
