import type { Database } from 'better-sqlite3';
import type { GuestNetworkType } from '../../../domain/network/index.js';
import type { Connection, PageRequest } from '../../pagination.js';
import { byCreated, listPage, where, type ListQuery } from '../../listing.js';
import { prepared } from '../../sql.js';
import { ownedByNobodyOrWithin, type Reach } from '../../visibility.js';

/**
 * CloudStack's Network.State as far as vmledger models it: a shared or L2 network is usable once
 * created (`Setup`), an isolated one is `Allocated` until implemented, a deleted one is `Destroy`.
 */
export type NetworkState = 'Allocated' | 'Setup' | 'Destroy';

export interface NetworkNode {
  readonly id: string;
  readonly name: string;
  readonly zoneId: string;
  readonly type: GuestNetworkType;
  readonly vlan: number | null;
  readonly cidr: string | null;
  readonly gateway: string | null;
  readonly netmask: string | null;
  readonly networkOfferingId: string;
  readonly accountId: string | null;
  readonly state: NetworkState;
  readonly removed: boolean;
  readonly created: string;
}

export interface NetworkAddressNode {
  readonly networkId: string;
  readonly nicId: string;
  readonly instanceId: string;
  readonly mac: string;
  /** Null on L2 networks. */
  readonly ip: string | null;
}

interface NetworkRow {
  id: string;
  name: string;
  zone_id: string;
  type: GuestNetworkType;
  vlan: number | null;
  cidr: string | null;
  gateway: string | null;
  netmask: string | null;
  network_offering_id: string;
  account_id: string | null;
  deleted: 0 | 1;
  created: string;
}

interface AddressRow {
  network_id: string;
  nic_id: string;
  instance_id: string;
  mac: string;
  ip: string | null;
  position: number;
}

const networkNode = (row: NetworkRow): NetworkNode => ({
  id: row.id,
  name: row.name,
  zoneId: row.zone_id,
  type: row.type,
  vlan: row.vlan,
  cidr: row.cidr,
  gateway: row.gateway,
  netmask: row.netmask,
  networkOfferingId: row.network_offering_id,
  accountId: row.account_id,
  state: row.deleted === 1 ? 'Destroy' : row.type === 'Isolated' ? 'Allocated' : 'Setup',
  removed: row.deleted === 1,
  created: row.created,
});

const addressNode = (row: AddressRow): NetworkAddressNode => ({
  networkId: row.network_id,
  nicId: row.nic_id,
  instanceId: row.instance_id,
  mac: row.mac,
  ip: row.ip,
});

export interface ListNetworksArgs extends PageRequest {
  readonly zoneId?: string | null;
  readonly id?: string | null;
  readonly accountId?: string | null;
}

/** Networks not deleted, oldest first. */
export function listNetworks(db: Database, args: ListNetworksArgs = {}): Connection<NetworkNode> {
  const conditions = [
    where('deleted = 0'),
    args.zoneId != null ? where('zone_id = ?', args.zoneId) : undefined,
    args.id != null ? where('id = ?', args.id) : undefined,
    args.accountId != null ? where('account_id = ?', args.accountId) : undefined,
  ];
  return listPage(db, byCreated<NetworkRow>('infra_network', conditions), args, networkNode);
}

/** Shared and L2 networks (owned by no account) and the isolated networks of the accounts within reach, oldest first. */
export function listReachableNetworks(db: Database, reach: Reach, args: PageRequest & { readonly zoneId?: string | null } = {}): Connection<NetworkNode> {
  const conditions = [
    where('deleted = 0'),
    args.zoneId != null ? where('zone_id = ?', args.zoneId) : undefined,
    ownedByNobodyOrWithin(reach, 'account_id IS NULL'),
  ];
  return listPage(db, byCreated<NetworkRow>('infra_network', conditions), args, networkNode);
}

/**
 * The network a deployment that names none gets: the zone's oldest network its owner may use, which is
 * a zone-wide one (no account) or one of the owner's own. Another account's network is never a default.
 */
export function defaultNetworkFor(db: Database, zoneId: string, ownerAccountId: string): NetworkNode | undefined {
  const row = prepared(
    db,
    'SELECT * FROM infra_network WHERE zone_id = ? AND deleted = 0 AND (account_id IS NULL OR account_id = ?) ORDER BY created, id LIMIT 1',
  ).get(zoneId, ownerAccountId) as NetworkRow | undefined;
  return row && networkNode(row);
}

export function getNetwork(db: Database, id: string, options: { readonly includeRemoved?: boolean } = {}): NetworkNode | undefined {
  const row = prepared(db, 'SELECT * FROM infra_network WHERE id = ?').get(id) as NetworkRow | undefined;
  return row && (options.includeRemoved || row.deleted === 0) ? networkNode(row) : undefined;
}

/** The addresses NICs hold in a network, in the order they were allocated. */
export function listNetworkAddresses(db: Database, networkId: string, page: PageRequest = {}): Connection<NetworkAddressNode> {
  const query: ListQuery<AddressRow> = {
    from: 'infra_network_address',
    conditions: [where('network_id = ?', networkId)],
    orderBy: ['position', 'nic_id'],
    keyTypes: ['number', 'string'],
    keyOf: (row) => [row.position, row.nic_id],
  };
  return listPage(db, query, page, addressNode);
}

/** Whether a NIC of the network holds this MAC (lower case) or IP: what an import checks before it claims one. */
export function networkAddressHeld(db: Database, networkId: string, address: { readonly mac: string } | { readonly ip: string }): boolean {
  const row = 'mac' in address
    ? prepared(db, 'SELECT 1 FROM infra_network_address WHERE network_id = ? AND mac = ?').get(networkId, address.mac)
    : prepared(db, 'SELECT 1 FROM infra_network_address WHERE network_id = ? AND ip = ?').get(networkId, address.ip);
  return row !== undefined;
}

/** Every address an instance's NICs hold, across networks. */
export function listInstanceAddresses(db: Database, instanceId: string): NetworkAddressNode[] {
  const rows = prepared(db, 'SELECT * FROM infra_network_address WHERE instance_id = ? ORDER BY position, nic_id').all(instanceId) as AddressRow[];
  return rows.map(addressNode);
}

/** How many IPs are held in each block of 256 addresses (ip >> 8) of the network; blocks holding none are absent. */
export function heldIpsPerBlock(db: Database, networkId: string): Map<number, number> {
  const rows = prepared(db, 'SELECT block, held FROM infra_network_ip_block WHERE network_id = ? AND held > 0').all(networkId) as Array<{ block: number; held: number }>;
  return new Map(rows.map((row) => [row.block, row.held]));
}

/** The IPs (as numbers) held in the network between `from` and `to`, both included. */
export function heldIpsBetween(db: Database, networkId: string, from: number, to: number): Set<number> {
  const rows = prepared(db, 'SELECT ip_value FROM infra_network_claim WHERE network_id = ? AND ip_value BETWEEN ? AND ?').pluck().all(networkId, from, to) as number[];
  return new Set(rows);
}
