// Allocating and giving back a NIC's addresses, each on its own stream (domain/network/nic-address.ts).
// The read model says where a free IP may be (the first block of 256 addresses not full, then that
// block's held addresses); the address's stream decides: a claim another deployment took first is
// refused there, and the next candidate is tried. So deciding a deployment reads a few small streams
// and a few read-model rows, whatever the number of addresses the network ever handed out.
//
// Order, for a crash half-way: the IP and the MAC are claimed first, then the NIC records them. A
// claim left behind (the process died before the NIC was recorded) belongs to an instance that was
// never recorded: the orphaned-claims sweep finds it in the read model and gives it back.
import type { Database } from 'better-sqlite3';
import { CommandRejectedError, type CommandEnvelope } from '../adapters/eventstore/command-handler.js';
import type { Commander } from '../adapters/eventstore/commander.js';
import type { EventStore } from '../adapters/eventstore/port.js';
import {
  formatIpv4,
  guestMac,
  hostRange,
  ipOwner,
  macOwner,
  networkAddressDecider,
  networkAddressStream,
  networkDecider,
  networkStream,
  nicDecider,
  nicOf,
  nicStream,
  normalizeMac,
  parseIpv4,
  type Network,
  type NicAddress,
} from '../domain/network/index.js';
import { reject } from '../domain/shared/decider.js';
import { heldIpsBetween, heldIpsPerBlock } from '../projections/infrastructure/index.js';
import type { ReadModel } from '../projections/read-model.js';

/** Where free addresses are looked for: the read model, which may lag behind the log. */
export interface AddressHints {
  readonly db: Database;
  /** Resolves once the read model shows every event appended so far (or gave up waiting). */
  readonly caughtUp: () => Promise<unknown>;
}

/** The hints of a read model fed by `store`; waits at most `timeoutMs` for it to catch up. */
export function readModelHints(store: Pick<EventStore, 'headPosition'>, readModel: Pick<ReadModel, 'db' | 'waitForPosition'>, timeoutMs = 5_000): AddressHints {
  return { db: readModel.db, caughtUp: async () => readModel.waitForPosition(await store.headPosition(), timeoutMs) };
}

export interface NicAllocation {
  readonly networkId: string;
  readonly nicId: string;
  readonly instanceId: string;
  readonly requestedIp?: string | null;
  readonly requestedMac?: string | null;
  /** Random 32-bit number chosen by the caller; see `guestMac`. */
  readonly macSeed: number;
}

/** MACs tried before giving up: with a random seed over 2^32 values, a second is already rare. */
const MAC_ATTEMPTS = 16;
/**
 * Addresses this process claimed lately or is claiming now, per network: a concurrent deployment
 * skips them and tries the next free one, instead of all of them racing for the lowest (24 at once
 * made 300 attempts). The read model shows a claim soon after: this only has to remember the last few.
 */
const RECENT_CLAIMS = 1024;
const recentByCommander = new WeakMap<Commander, Map<string, Set<string>>>();

function recentClaims(commander: Commander, networkId: string): Set<string> {
  let networks = recentByCommander.get(commander);
  if (!networks) recentByCommander.set(commander, (networks = new Map()));
  let recent = networks.get(networkId);
  if (!recent) networks.set(networkId, (recent = new Set()));
  return recent;
}

function remember(recent: Set<string>, address: string): void {
  recent.add(address);
  if (recent.size > RECENT_CLAIMS) recent.delete(recent.values().next().value!);
}

/**
 * Free IPs of the network as the read model sees them, lowest first (as CloudStack's
 * acquireFirstGuestIpAddress hands them out). Skips blocks the read model has full, and addresses
 * an older log holds on the network stream or this process claimed lately.
 */
function* ipCandidates(db: Database, network: Network, recent: ReadonlySet<string>): Generator<string> {
  const range = hostRange(network);
  if (range === undefined) return;
  const held = heldIpsPerBlock(db, network.networkId);
  for (let block = Math.floor(range.first / 256); block <= Math.floor(range.last / 256); block++) {
    const from = Math.max(range.first, block * 256);
    const to = Math.min(range.last, block * 256 + 255);
    const capacity = to - from + 1 - (range.gateway >= from && range.gateway <= to ? 1 : 0);
    if ((held.get(block) ?? 0) >= capacity) continue;
    const taken = heldIpsBetween(db, network.networkId, from, to);
    for (let address = from; address <= to; address++) {
      if (address === range.gateway || taken.has(address)) continue;
      const text = formatIpv4(address);
      if (ipOwner(network, text) === undefined && !recent.has(text)) yield text;
    }
  }
}

function* macCandidates(network: Network, seed: number): Generator<string> {
  for (let probe = 0; probe < MAC_ATTEMPTS; probe++) {
    const mac = guestMac(seed, probe);
    if (macOwner(network, mac) === undefined) yield mac;
  }
}

function refused(error: unknown): boolean {
  return error instanceof CommandRejectedError;
}

/**
 * Claims the first candidate its stream grants. A requested address is the only candidate, and its
 * refusal is the caller's; otherwise a refused candidate was taken meanwhile and the next is tried.
 * The claims this call appended (not those a twin had made already) go into `fresh`.
 */
async function claimFirst(
  commander: Commander,
  network: Network,
  request: NicAllocation,
  candidates: Iterable<string>,
  requested: boolean,
  fresh: string[],
  envelope: CommandEnvelope,
): Promise<string | undefined> {
  const { networkId, nicId, instanceId } = request;
  const recent = recentClaims(commander, networkId);
  for (const address of candidates) {
    // Taken (by this claim, by another NIC that got it first, or refused to it): skipped from now on.
    remember(recent, address);
    try {
      const claimed = await commander.execute(networkAddressStream(networkId, address), networkAddressDecider, { type: 'ClaimNetworkAddress', networkId, address, nicId, instanceId, networkName: network.name }, envelope);
      if (claimed.events.length > 0) fresh.push(address);
      return address;
    } catch (error) {
      if (!refused(error)) recent.delete(address);
      if (requested || !refused(error)) throw error;
    }
  }
  return undefined;
}

async function releaseAddresses(commander: Commander, networkId: string, nicId: string, addresses: Iterable<string>, envelope: CommandEnvelope): Promise<void> {
  const recent = recentClaims(commander, networkId);
  for (const address of addresses) {
    await commander.execute(networkAddressStream(networkId, address), networkAddressDecider, { type: 'ReleaseNetworkAddress', networkId, address, nicId }, envelope);
    recent.delete(address);
  }
}

/**
 * Gives the NIC an IP (when its network assigns them) and a MAC, each claimed on its own stream, and
 * records them on the NIC's stream. Refused as the network refuses: BAD_USER_INPUT for a bad or
 * taken requested IP, CONFLICT for a taken requested MAC, INSUFFICIENT_CAPACITY when the network is full.
 */
export async function allocateNicAddress(commander: Commander, hints: AddressHints, request: NicAllocation, envelope: CommandEnvelope): Promise<NicAddress> {
  const { networkId, nicId, instanceId } = request;
  const checked = await commander.execute(networkStream(networkId), networkDecider, { type: 'CheckNicAllocation', nicId, instanceId, requestedIp: request.requestedIp ?? null, requestedMac: request.requestedMac ?? null, macSeed: request.macSeed }, envelope);
  const network = checked.state;
  if (network.kind !== 'network') throw new CommandRejectedError(reject('NOT_FOUND', 'Network does not exist', 'networkId'));
  // An older log's NIC, allocated on the network stream.
  const legacy = nicOf(network, nicId);
  if (legacy) return legacy;

  const recent = recentClaims(commander, networkId);
  const requestedIp = request.requestedIp ? formatIpv4(parseIpv4(request.requestedIp)!) : null;
  // Only what this call claimed is given back on failure: a twin's claims are the twin's.
  const fresh: string[] = [];
  const claimIp = (skip: ReadonlySet<string>) =>
    claimFirst(commander, network, request, requestedIp ? [requestedIp] : ipCandidates(hints.db, network, skip), requestedIp !== null, fresh, envelope);
  try {
    let ip = hostRange(network) === undefined ? null : await claimIp(recent);
    if (ip === undefined) {
      // The read model may not show an address given back a moment ago (here or by another
      // process): full only once it has caught up, and every address it shows free was tried.
      await hints.caughtUp();
      ip = await claimIp(new Set());
    }
    if (ip === undefined) throw new CommandRejectedError(reject('INSUFFICIENT_CAPACITY', `No free IP address left in network ${network.name} (${network.cidr})`));
    const requestedMac = request.requestedMac ? normalizeMac(request.requestedMac)! : null;
    const mac = await claimFirst(commander, network, request, requestedMac ? [requestedMac] : macCandidates(network, request.macSeed), requestedMac !== null, fresh, envelope);
    if (mac === undefined) throw new CommandRejectedError(reject('INSUFFICIENT_CAPACITY', `Could not generate a new MAC address on network ${network.name}`));
    const recorded = await commander.execute(nicStream(networkId, nicId), nicDecider, { type: 'RecordNicAddress', networkId, nic: { nicId, instanceId, mac, ip } }, envelope);
    if (recorded.state.kind !== 'allocated') throw new Error(`NIC ${nicId} was not recorded`);
    const nic = recorded.state.nic;
    // A twin deployment (same client token) recorded the NIC first: what this one claimed besides goes back.
    const extra = fresh.filter((address) => address !== nic.mac && address !== nic.ip);
    if (extra.length > 0) await releaseAddresses(commander, networkId, nicId, extra, envelope);
    return nic;
  } catch (error) {
    await releaseAddresses(commander, networkId, nicId, fresh, envelope);
    throw error;
  }
}

/**
 * Gives the NIC's addresses back; idempotent. The NIC's stream knows them once recorded; `addresses`
 * names claims the read model knows of a NIC that was never recorded. A NIC an older log allocated on
 * the network stream is released there too.
 */
export async function releaseNicAddress(
  commander: Commander,
  nic: { readonly networkId: string; readonly nicId: string; readonly addresses?: readonly string[] },
  envelope: CommandEnvelope,
): Promise<void> {
  const { networkId, nicId } = nic;
  const released = await commander.execute(nicStream(networkId, nicId), nicDecider, { type: 'ReleaseNicAddress', networkId, nicId }, envelope);
  const addresses = new Set(nic.addresses ?? []);
  if (released.state.kind !== 'none') {
    addresses.add(released.state.nic.mac);
    if (released.state.nic.ip !== null) addresses.add(released.state.nic.ip);
  }
  await releaseAddresses(commander, networkId, nicId, addresses, envelope);
  await commander.execute(networkStream(networkId), networkDecider, { type: 'ReleaseNic', nicId }, envelope);
}
