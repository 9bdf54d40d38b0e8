import type { Database } from 'better-sqlite3';
import type { Instance, PendingOperation } from '../../domain/instance/index.js';
import { toVirtualMachineView, type VirtualMachineView } from '../instances/view.js';
import { listPage, where, type Condition, type ListQuery } from '../listing.js';
import type { Connection, PageRequest } from '../pagination.js';
import { prepared } from '../sql.js';
import { visibleTo, type Visibility } from '../visibility.js';

export interface JobRow {
  readonly id: string;
  readonly cmd: string;
  readonly status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  readonly instanceId: string;
  readonly accountId: string;
  readonly resourceType: string;
  readonly resourceId: string;
  /** The workflow step it entered last, and its progress (100 once it ended). */
  readonly step: string | null;
  readonly progress: number;
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
  resource_type: string;
  resource_id: string;
  step: string | null;
  progress: number;
  created_at: string;
  completed_at: string | null;
  error: string | null;
  result: string | null;
  position: number;
}

/**
 * Jobs carry their account; a domain admin's visibility is by that account's domain. (Not by the
 * resource's: a job may be opened before its resource exists, or outlive it.)
 */
function jobsVisibleTo(visibility: Visibility): Condition | undefined {
  const visible = visibleTo(visibility);
  if (!visible) return undefined;
  return visibility.kind === 'domains' ? where(`account_id IN (SELECT id FROM acct_account WHERE ${visible.sql})`, ...visible.params) : visible;
}

export function getJob(db: Database, visibility: Visibility, id: string): JobRow | undefined {
  const visible = jobsVisibleTo(visibility);
  const row = prepared(db, `SELECT * FROM jobs WHERE id = ?${visible ? ` AND (${visible.sql})` : ''}`).get(id, ...(visible?.params ?? [])) as Row | undefined;
  return row && toJob(row);
}

/** The operation a job runs, whoever may see it (for the orchestrator). */
export function getJobCmd(db: Database, id: string): string | undefined {
  return (prepared(db, 'SELECT cmd FROM jobs WHERE id = ?').get(id) as { cmd: string } | undefined)?.cmd;
}

export interface JobFilter {
  readonly instanceId?: string | null;
  readonly accountId?: string | null;
  readonly cmd?: string | null;
  readonly status?: JobRow['status'] | null;
}

/** The jobs the caller may see, newest first. */
export function listJobs(db: Database, visibility: Visibility, filter: JobFilter, page: PageRequest): Connection<JobRow> {
  const conditions = [
    jobsVisibleTo(visibility),
    filter.instanceId ? where('instance_id = ?', filter.instanceId) : undefined,
    filter.accountId ? where('account_id = ?', filter.accountId) : undefined,
    filter.cmd ? where('cmd = ?', filter.cmd) : undefined,
    filter.status ? where('status = ?', filter.status) : undefined,
  ];
  const query: ListQuery<Row> = { from: 'jobs', conditions, orderBy: ['created_at', 'id'], keyTypes: ['string', 'string'], keyOf: (row) => [row.created_at, row.id], descending: true };
  return listPage(db, query, page, toJob);
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
export function orphanedNames(db: Database, before: string): Array<{ accountId: string; instanceId: string; name: string }> {
  return prepared(
    db,
    `SELECT n.account_id AS accountId, n.instance_id AS instanceId, n.name AS name FROM acct_instance_name n
     WHERE n.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = n.instance_id)`,
  ).all(before) as Array<{ accountId: string; instanceId: string; name: string }>;
}

/** The name an instance claimed in its account, as the read model has it; null when it holds none. */
export function claimedInstanceName(db: Database, accountId: string, instanceId: string): string | null {
  const row = prepared(db, 'SELECT name FROM acct_instance_name WHERE account_id = ? AND instance_id = ?').get(accountId, instanceId) as { name: string } | undefined;
  return row?.name ?? null;
}

/** Addresses claimed before `before` for instances that were never recorded (each NIC's IP and MAC). */
export function orphanedAddresses(db: Database, before: string): Array<{ networkId: string; nicId: string; instanceId: string; address: string }> {
  return prepared(
    db,
    `SELECT c.network_id AS networkId, c.nic_id AS nicId, c.instance_id AS instanceId, c.address AS address FROM infra_network_claim c
     WHERE c.claimed_at < ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.id = c.instance_id)
     ORDER BY c.network_id, c.nic_id, c.address`,
  ).all(before) as Array<{ networkId: string; nicId: string; instanceId: string; address: string }>;
}

function toJob(row: Row): JobRow {
  return {
    id: row.id,
    cmd: row.cmd,
    status: row.status,
    instanceId: row.instance_id,
    accountId: row.account_id,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    step: row.step,
    progress: row.progress,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    error: row.error === null ? null : (JSON.parse(row.error) as JobRow['error']),
    result: row.result === null ? null : toVirtualMachineView(JSON.parse(row.result) as Instance),
    position: row.position,
  };
}
