// importVm and importVmPreview (behaviour §4.2, §4.6; issue 16 items 4 and 6): one planner per
// import source applies every rule of that source to its arguments through an ImportChecks
// collector. importVm runs it stopping at the first failure and records what it planned; the preview
// runs the same planner collecting every failure, and returns the plan with them, appending nothing
// and moving no byte (the agents are only asked, by queries that change nothing). A new source is
// one more entry of PLANNERS.
import type { SecretStore } from '../../../adapters/secrets/port.js';
import { HOSTNAME } from '../../../domain/shared/instance-name.js';
import { getCluster, getZone, type ServiceOfferingNode, type TemplateNode } from '../../../projections/infrastructure/index.js';
import { db, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller, type JobView } from '../port.js';
import { ImportChecks } from './import-checks.js';
import { planExternalImport, withSecret, type ImportSource, type ImportVmArgs } from './import-external.js';
import { emptyDraft, type ImportDraft, type ImportVmPreviewView, type PlanOutcome } from './import-plan.js';
import { importHostname, importOwner, importServiceOffering, importTemplate, planUnmanagedImport, plannedOrThrow, recordImport } from './import.js';
import { planVmwareImport } from './import-vmware.js';
import type { Owner } from './resolve.js';

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);

/** What every KVM source (`importKvmInstance`) checks first, and what it found. */
export interface KvmImportBase {
  readonly draft: ImportDraft;
  readonly owner: Owner | undefined;
  readonly template: TemplateNode | undefined;
  readonly offering: ServiceOfferingNode | undefined;
  readonly hostname: string | undefined;
}

/** `importKvmInstance`'s preconditions, in CloudStack's order (the zone and root admin checked by the caller). */
export function planKvmBase(context: ControlPlaneContext, caller: Caller, args: ImportVmArgs, checks: ImportChecks): KvmImportBase {
  if (args.name.trim() === '') checks.fail(bad('Instance name cannot be empty', 'name'));
  if (!args.account && args.domainId != null) checks.fail(bad('domainid parameter must be specified with account parameter', 'domainId'));
  const owner = checks.attempt(() => importOwner(context, caller, { ...args, clusterId: '' }));
  const template = checks.attempt(() => importTemplate(context, args.templateId, 'KVM', args.zoneId));
  const offering = checks.attempt(() => importServiceOffering(context, args.serviceOfferingId));
  // KVM: the hostname defaults to the instance's name (behaviour §4.6), not its display name.
  const given = args.hostName ?? '';
  let hostname: string | undefined;
  if (given === '' && !HOSTNAME.test(args.name)) checks.fail(bad('Please provide hostname for the VM. VM name contains unsupported characters for it to be used as hostname', 'hostName'));
  else hostname = checks.attempt(() => importHostname({ ...args, clusterId: '', hostName: given === '' ? args.name : given }, args.displayName ?? args.name));
  const draft = emptyDraft();
  draft.instance = {
    name: args.name,
    instanceName: null,
    displayName: args.displayName ?? args.name,
    hostName: hostname ?? null,
    accountId: owner?.accountId ?? null,
    domainId: owner?.domainId ?? null,
    serviceOfferingId: args.serviceOfferingId,
    templateId: template?.id ?? null,
    cpuNumber: offering?.cpuNumber ?? null,
    cpuSpeed: offering?.cpuSpeed ?? null,
    memory: offering?.memory ?? null,
    // Every KVM source's instance starts Stopped (§4.6).
    state: 'Stopped',
    zoneId: args.zoneId,
    clusterId: null,
    hostId: null,
  };
  return { draft, owner, template, offering, hostname };
}

interface PlanRequest {
  readonly context: ControlPlaneContext;
  readonly caller: Caller;
  readonly args: ImportVmArgs;
  readonly checks: ImportChecks;
  readonly secrets: SecretStore;
}

/**
 * A source's planner hands its outcome to `then` while what the plan refers to is still held (the
 * EXTERNAL login's password); `keep` hands that on to the import's job, which deletes it when it ends.
 */
type Planner = <T>(request: PlanRequest, then: (outcome: PlanOutcome, keep: () => void) => Promise<T>) => Promise<T>;

const PLANNERS: Partial<Record<ImportSource, Planner>> = {
  // importUnmanagedInstance's arguments are importVm's: the cluster and the domain's name.
  UNMANAGED: async ({ context, caller, args, checks }, then) => {
    if (!args.clusterId) {
      checks.fail(bad('Cluster ID cannot be null.', 'clusterId'));
      return then({ planned: undefined, draft: emptyDraft() }, () => undefined);
    }
    const cluster = getCluster(db(context), args.clusterId);
    if (cluster && cluster.zoneId !== args.zoneId) {
      checks.fail(bad(`Cluster ${cluster.id} is not in zone ${args.zoneId}`, 'clusterId'));
      return then({ planned: undefined, draft: emptyDraft() }, () => undefined);
    }
    return then(await planUnmanagedImport(context, caller, { ...args, clusterId: args.clusterId }, checks), () => undefined);
  },
  EXTERNAL: async ({ context, caller, args, checks, secrets }, then) => {
    const base = planKvmBase(context, caller, args, checks);
    const password = args.password ?? null;
    return withSecret(secrets, password, async (ref, keep) => then(await planExternalImport(context, caller, args, checks, base, { ref, text: password }), keep));
  },
  // The conversion host's agent lists the guest; its job then converts and imports it (issue 17).
  VMWARE: async ({ context, caller, args, checks, secrets }, then) => {
    const base = planKvmBase(context, caller, args, checks);
    const password = args.password ?? null;
    return withSecret(secrets, password, async (ref, keep) => then(await planVmwareImport(context, caller, args, checks, base, { ref, text: password }), keep));
  },
};

function sourcePlanner(source: ImportSource): Planner {
  const planner = PLANNERS[source];
  if (!planner) throw bad(`Import source ${source} is not supported by vmledger's importVm: ${Object.keys(PLANNERS).join(', ')} are`, 'importSource');
  return planner;
}

/** Checked before any source's rules: who may import, and where to. */
function requireImporter(context: ControlPlaneContext, caller: Caller, args: ImportVmArgs): void {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', `Cannot perform this operation, Calling account is not root admin: ${caller.accountId}`);
  if (!getZone(db(context), args.zoneId)) throw bad('Please specify a valid zone.', 'zoneId');
}

/** importVm: the source's rules, stopping at the first that fails; then the import is recorded. */
export async function importVm(context: ControlPlaneContext, caller: Caller, args: ImportVmArgs, secrets: SecretStore): Promise<JobView> {
  requireImporter(context, caller, args);
  const planner = sourcePlanner(args.importSource);
  return planner({ context, caller, args, checks: ImportChecks.firstError(), secrets }, async (outcome, keep) => {
    const { owner, command, nics } = plannedOrThrow(outcome);
    const job = await recordImport(context, caller, owner, command, nics, args.importSource === 'UNMANAGED' ? 'importUnmanagedInstance' : 'importVm');
    // What the job needs (the password) is kept for it, and deleted when it ends; an import that never started must not keep it.
    if (job.status === 'PENDING') keep();
    return job;
  });
}

/**
 * importVmPreview: the same rules as importVm for the same arguments, every failure collected; the
 * plan as far as they got. Who may ask, and which zone and source, are checked as importVm checks
 * them and refuse the preview itself: there is no plan to show without them.
 */
export async function importVmPreview(context: ControlPlaneContext, caller: Caller, args: ImportVmArgs, secrets: SecretStore): Promise<ImportVmPreviewView> {
  requireImporter(context, caller, args);
  const planner = sourcePlanner(args.importSource);
  const checks = ImportChecks.collectAll();
  const { draft } = await planner({ context, caller, args, checks, secrets }, async (outcome) => outcome);
  return { importSource: args.importSource, ok: !checks.failed, instance: draft.instance, disks: draft.disks, nics: draft.nics, conversion: draft.conversion, problems: checks.problems };
}
