// Guests of an external KVM host (behaviour §4.6 `external`): a libvirt host vmledger does not
// manage, named by address with an operator's login. The control plane never connects to it: the
// agent of an Up host of the zone logs in over SSH and lists the stopped domains there.
//
// The password (issue 16 item 5) is put in the secrets port at once and travels by reference: the
// query client reads it back only to seal it into the one query that needs it, and it is deleted
// when the request ends, whatever the outcome. No message here ever quotes it.
import { AgentQueryFailed, AgentQueryTimeout } from '../../../adapters/hypervisor/query-client.js';
import type { SecretStore } from '../../../adapters/secrets/port.js';
import type { RemoteHostLogin, UnmanagedDomain } from '../../../domain/agent-protocol/index.js';
import { getCluster, getZone, listHosts, type HostNode } from '../../../projections/infrastructure/index.js';
import type { Connection } from '../../../projections/pagination.js';
import { db, type ControlPlaneContext } from '../context.js';
import { ApiError, type Caller } from '../port.js';
import { unmanagedInstanceView, type UnmanagedInstanceView } from './import.js';

/** `VmImportService.ImportSource` (behaviour §4.2). */
export const IMPORT_SOURCES = ['UNMANAGED', 'EXTERNAL', 'LOCAL', 'SHARED', 'VMWARE'] as const;
export type ImportSource = (typeof IMPORT_SOURCES)[number];

/** A stopped guest of an external host: an unmanaged instance's shape, with the host as the operator named it. */
export type ExternalInstanceView = Omit<UnmanagedInstanceView, 'hostId' | 'clusterId'> & { readonly host: string };

export interface VmsForImportArgs {
  readonly zoneId: string;
  readonly host: string;
  readonly username: string;
  readonly password?: string | null;
  readonly importSource?: ImportSource | null;
}

export const SSH_PORT = 22;
const HOST = /^(?<name>[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?)(?::(?<port>\d{1,5}))?$/;

const bad = (message: string, field: string): ApiError => new ApiError('BAD_USER_INPUT', message, field);

/** `host`, or `host:port` for an sshd that does not listen on 22. */
export function parseExternalHost(text: string): { host: string; port: number } {
  const match = HOST.exec(text.trim());
  const port = match?.groups?.['port'] === undefined ? SSH_PORT : Number(match.groups['port']);
  if (!match?.groups?.['name'] || port < 1 || port > 65_535) throw bad(`Invalid host ${JSON.stringify(text.slice(0, 260))}: give a host name or IPv4 address, optionally with :port`, 'host');
  return { host: match.groups['name'], port };
}

/** The first Up and Enabled host of a KVM cluster in the zone: its agent does the listing (`getRemoteVmsOnKVMHost`). */
function listingHost(context: ControlPlaneContext, zoneId: string, remote: string): HostNode {
  const host = listHosts(db(context), { zoneId, first: 500 }).nodes.find(
    (candidate) => candidate.status === 'Up' && candidate.resourceState === 'Enabled' && getCluster(db(context), candidate.clusterId)?.hypervisor === 'KVM',
  );
  if (!host) throw new ApiError('INVALID_STATE', `No hosts available to list VMs on remote host ${remote}`, 'zoneId');
  return host;
}

/** Whatever reaches the caller is cut of the password, should a host's message ever echo it. */
function scrubbed(message: string, password: string | null): string {
  return password === null || password === '' ? message : message.split(password).join('***');
}

/** Puts the password (if any) in the secrets port for the length of `use`, and always deletes it after. */
export async function withSecret<T>(secrets: SecretStore, password: string | null, use: (ref: string | null) => Promise<T>): Promise<T> {
  const ref = password === null || password === '' ? null : await secrets.put(password);
  try {
    return await use(ref);
  } finally {
    if (ref !== null) await secrets.delete(ref);
  }
}

/** Asks the agent of `via` for the stopped domains of `remote`. */
export async function remoteDomains(context: ControlPlaneContext, via: HostNode, remote: RemoteHostLogin, passwordRef: string | null, password: string | null): Promise<UnmanagedDomain[]> {
  const queries = context.agentQueries;
  if (!queries) throw new ApiError('INTERNAL_ERROR', "this control plane cannot reach hosts' agents");
  try {
    return await queries.listRemoteDomains(via.id, remote, passwordRef);
  } catch (error) {
    if (error instanceof AgentQueryTimeout) throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${error.message}`);
    if (error instanceof AgentQueryFailed) throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${scrubbed(error.message, password)}`);
    throw new ApiError('INTERNAL_ERROR', `Failed to list VMs, due to: ${scrubbed(error instanceof Error ? error.message : String(error), password)}`);
  }
}

/** `listVmsForImport`: the stopped domains of an external KVM host, in one page. */
export async function vmsForImport(context: ControlPlaneContext, caller: Caller, args: VmsForImportArgs, secrets: SecretStore): Promise<Connection<ExternalInstanceView>> {
  if (caller.role !== 'ROOT_ADMIN') throw new ApiError('FORBIDDEN', `Cannot perform this operation, Calling account is not root admin: ${caller.accountId}`);
  if (!getZone(db(context), args.zoneId)) throw bad('Please specify a valid zone.', 'zoneId');
  const source = args.importSource ?? 'EXTERNAL';
  if (source !== 'EXTERNAL') throw bad(`Listing the VMs of an import source ${source} is not supported: vmsForImport lists the stopped guests of an EXTERNAL KVM host`, 'importSource');
  if (args.username.trim() === '') throw bad('Username need to be provided.', 'username');
  const { host, port } = parseExternalHost(args.host);
  const via = listingHost(context, args.zoneId, host);
  const password = args.password ?? null;
  const domains = await withSecret(secrets, password, (ref) => remoteDomains(context, via, { host, port, username: args.username }, ref, password));
  const nodes = domains.map((domain) => {
    const { hostId: _hostId, clusterId: _clusterId, ...shape } = unmanagedInstanceView(domain, via);
    return { ...shape, host };
  });
  return { nodes, pageInfo: { hasNextPage: false, endCursor: null }, totalCount: nodes.length };
}
