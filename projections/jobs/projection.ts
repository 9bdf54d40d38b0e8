// Async jobs as API.md's AsyncJob shows them. The result is the instance as the read model holds
// it when the job ends, which is the instance as of completion: the instance's events that settled
// the job precede the job's end in the log, and projections apply events in log order.
import { toDomainEvent } from '../../adapters/eventstore/domain-event.js';
import { JOB_STREAM_PREFIX, type JobEvent } from '../../domain/job/index.js';
import type { Projection } from '../projection.js';

export const jobsProjection: Projection = {
  name: 'jobs',
  version: 2,
  filter: { streamNamePrefixes: [JOB_STREAM_PREFIX] },
  schema: `
    CREATE TABLE jobs (
      id           TEXT PRIMARY KEY,
      cmd          TEXT NOT NULL,
      status       TEXT NOT NULL,
      instance_id  TEXT NOT NULL,
      account_id   TEXT NOT NULL,
      resource_type TEXT NOT NULL,
      resource_id  TEXT NOT NULL,
      step         TEXT,
      progress     INTEGER NOT NULL DEFAULT 0,
      created_at   TEXT NOT NULL,
      completed_at TEXT,
      error        TEXT,
      result       TEXT,
      position     INTEGER NOT NULL
    );
    CREATE INDEX jobs_pending ON jobs (status, created_at);
    CREATE INDEX jobs_by_created ON jobs (created_at, id);
    CREATE INDEX jobs_by_account ON jobs (account_id, created_at, id);
    CREATE INDEX jobs_by_instance ON jobs (instance_id, created_at, id);
  `,
  handle(event, db) {
    const job = toDomainEvent<JobEvent>(event);
    const jobId = event.stream.slice(JOB_STREAM_PREFIX.length);
    switch (job.type) {
      case 'JobOpened':
        db.run(
          `INSERT OR IGNORE INTO jobs (id, cmd, status, instance_id, account_id, resource_type, resource_id, created_at, position) VALUES (?, ?, 'PENDING', ?, ?, ?, ?, ?, ?)`,
          jobId,
          job.data.cmd,
          job.data.instanceId,
          job.data.accountId,
          job.data.resource?.type ?? 'VirtualMachine',
          job.data.resource?.id ?? job.data.instanceId,
          job.data.createdAt,
          event.position,
        );
        return;
      case 'JobHostChosen':
      case 'JobAgentCommandIssued':
      case 'JobAgentProgressed':
        if (job.data.progress) {
          db.run('UPDATE jobs SET step = ?, progress = ?, position = ? WHERE id = ?', job.data.progress.step, job.data.progress.progress, event.position, jobId);
        } else {
          db.run('UPDATE jobs SET position = ? WHERE id = ?', event.position, jobId);
        }
        return;
      case 'JobSucceeded':
      case 'JobFailed': {
        const row = db.get<{ instance_id: string }>('SELECT instance_id FROM jobs WHERE id = ?', jobId);
        const instance = row && db.get<{ instance: string }>('SELECT instance FROM instances WHERE id = ?', row.instance_id);
        db.run(
          'UPDATE jobs SET status = ?, completed_at = ?, error = ?, result = ?, progress = 100, position = ? WHERE id = ?',
          job.type === 'JobSucceeded' ? 'SUCCEEDED' : 'FAILED',
          job.data.completedAt,
          job.type === 'JobFailed' ? JSON.stringify(job.data.error) : null,
          instance?.instance ?? null,
          event.position,
          jobId,
        );
        return;
      }
      default:
        // Progress inside the saga moves the job's position, so subscribers hear of it.
        db.run('UPDATE jobs SET position = ? WHERE id = ?', event.position, jobId);
    }
  },
};
