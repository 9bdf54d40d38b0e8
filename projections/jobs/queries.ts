import type { Database } from 'better-sqlite3';
import type { Instance, PendingOperation } from '../../domain/instance/index.js';
import { toVirtualMachineView, type VirtualMachineView } from '../instances/view.js';
import { prepared } from '../sql.js';
import { visibleTo, type Visibility } from '../visibility.js';

export interface JobRow {
  readonly id: string;
  readonly cmd: string;
  readonly status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  readonly instanceId: string;
  readonly accountId: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
  readonly error: { code: string; errorCode: number; message: string } | null;
  readonly result: VirtualMachineView | null;
  /** Log position of the job's latest change. */
  readonly position: number;
}

interface Row {
  id: string;
  cmd: string;
  status: JobRow['status'];
  instance_id: string;
  account_id: string;
  created_at: string;
  completed_at: string | null;
  error: string | null;
  result: string | null;
  position: number;
}

export function getJob(db: Database, visibility: Visibility, id: string): JobRow | undefined {
  // Jobs carry their account; a domain admin's visibility is by that account's domain. (Not by the
  // instance's: a deploy that failed before its instance was recorded has none, yet is the admin's.)
  const visible = visibleTo(visibility);
  const condition = !visible ? '' : visibility.kind === 'domains' ? ` AND account_id IN (SELECT id FROM acct_account WHERE ${visible.sql})` : ` AND ${visible.sql}`;
  const row = prepared(db, `SELECT * FROM jobs WHERE id = ?${condition}`).get(id, ...(visible?.params ?? [])) as Row | undefined;
  return row && toJob(row);
}

/** Jobs not finished yet: what a restarted orchestrator resumes. */
export function pendingJobs(db: Database): Array<{ id: string; instanceId: string }> {
  return (prepared(db, "SELECT id, instance_id AS instanceId FROM jobs WHERE status = 'PENDING' ORDER BY created_at").all() as Array<{ id: string; instanceId: string }>);
}

/**
 * Instances busy with a job whose stream was never opened (a crash between the instance's command and
 * the job's), with the operation they wait on.
 */
export function instancesAwaitingUnopenedJobs(db: Database): Array<{ id: string; accountId: string; jobId: string; pending: PendingOperation | null }> {
  const rows = prepared(
    db,
    `SELECT i.id, i.account_id AS accountId, i.pending_job AS jobId, i.instance FROM instances i
     WHERE i.pending_job IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = i.pending_job)`,
  ).all() as Array<{ id: string; accountId: string; jobId: string; instance: string }>;
  return rows.map((row) => ({ id: row.id, accountId: row.accountId, jobId: row.jobId, pending: (JSON.parse(row.instance) as { pending: PendingOperation | null }).pending }));
}

/** The unfinished job of an instance, if any. */
export function pendingJobOfInstance(db: Database, instanceId: string): string | undefined {
  const row = prepared(db, "SELECT id FROM jobs WHERE instance_id = ? AND status = 'PENDING' ORDER BY created_at LIMIT 1").get(instanceId) as { id: string } | undefined;
  return row?.id;
}

/** Instance names claimed before `before` by instances that were never recorded. */
export function orphanedNames(db: Database, before: string): Array<{ accountId: string; instanceId: string }> {
  return prepared(
    db,
    `SELECT n.account_id AS accountId, n.instance_id AS instanceId FROM acct_instance_name n
     WHERE n.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = n.instance_id)`,
  ).all(before) as Array<{ accountId: string; instanceId: string }>;
}

/** NIC addresses allocated before `before` to instances that were never recorded. */
export function orphanedAddresses(db: Database, before: string): Array<{ networkId: string; nicId: string; instanceId: string }> {
  return prepared(
    db,
    `SELECT a.network_id AS networkId, a.nic_id AS nicId, a.instance_id AS instanceId FROM infra_network_address a
     WHERE a.allocated_at < ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = a.instance_id)`,
  ).all(before) as Array<{ networkId: string; nicId: string; instanceId: string }>;
}

function toJob(row: Row): JobRow {
  return {
    id: row.id,
    cmd: row.cmd,
    status: row.status,
    instanceId: row.instance_id,
    accountId: row.account_id,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    error: row.error === null ? null : (JSON.parse(row.error) as JobRow['error']),
    result: row.result === null ? null : toVirtualMachineView(JSON.parse(row.result) as Instance),
    position: row.position,
  };
}
