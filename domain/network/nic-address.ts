// A network's addresses read by key. Every IP and MAC a NIC holds is claimed on a stream of its own,
// `networkaddress-<networkId>-<address>`: two NICs wanting one address have to append to the same
// stream, and the expected revision serialises them. The NIC's record, the addresses it ended up with,
// is kept on `networknic-<networkId>-<nicId>`, so giving a NIC back needs only its id. Deciding a
// deployment reads these few events, not every address the network ever allocated (the network stream
// held them all: folding it took 271 ms for the first deployment after a start at 10,000 instances).
//
// Logs written before these streams allocated on the network stream (network.ts): such an address
// stays held there until released, and an allocation checks the network stream first.
import { reject, type Decider, type DomainEvent } from '../shared/decider.js';
import { requireId } from '../config/validation.js';
import type { NetworkEvent, NicAddress } from './network.js';

export const NETWORK_ADDRESS_STREAM_PREFIX = 'networkaddress-';
export const NIC_STREAM_PREFIX = 'networknic-';

/** The stream of one address: a dotted IPv4 address or a lower-case MAC (the two forms never meet). */
export function networkAddressStream(networkId: string, address: string): string {
  return `${NETWORK_ADDRESS_STREAM_PREFIX}${networkId}-${address}`;
}

export function nicStream(networkId: string, nicId: string): string {
  return `${NIC_STREAM_PREFIX}${networkId}-${nicId}`;
}

/** A MAC has colons, an IPv4 address dots. */
export function isMacAddress(address: string): boolean {
  return address.includes(':');
}

interface AddressClaim {
  readonly networkId: string;
  readonly address: string;
  readonly nicId: string;
  readonly instanceId: string;
}

export type NetworkAddressEvent = DomainEvent<'NetworkAddressClaimed', AddressClaim> | DomainEvent<'NetworkAddressReleased', AddressClaim>;

export type NetworkAddressState = { readonly kind: 'free' } | { readonly kind: 'held'; readonly nicId: string; readonly instanceId: string };

export type NetworkAddressCommand =
  | (AddressClaim & {
      readonly type: 'ClaimNetworkAddress';
      /** The network's name for error messages. */
      readonly networkName: string;
    })
  | { readonly type: 'ReleaseNetworkAddress'; readonly networkId: string; readonly address: string; readonly nicId: string };

/** The refusal an address held by another NIC gets: the words and codes the network stream used. */
function taken(address: string, networkName: string) {
  return isMacAddress(address)
    ? reject('CONFLICT', `NIC with MAC address ${address} exists on network ${networkName}`, 'macAddress')
    : reject('BAD_USER_INPUT', `IP address ${address} is not available in network ${networkName}`, 'ipAddress');
}

export const networkAddressDecider: Decider<NetworkAddressCommand, NetworkAddressState, NetworkAddressEvent> = {
  initialState: { kind: 'free' },

  decide(command, state) {
    const invalid = requireId(command.nicId, 'nicId');
    if (invalid) return invalid;
    const { networkId, address, nicId } = command;
    if (command.type === 'ReleaseNetworkAddress') {
      // Idempotent, and only the holder's: a release repeated after a crash gives back nothing.
      return state.kind === 'held' && state.nicId === nicId ? [{ type: 'NetworkAddressReleased', data: { networkId, address, nicId, instanceId: state.instanceId } }] : [];
    }
    const bad = requireId(command.instanceId, 'instanceId');
    if (bad) return bad;
    // Idempotent for the same NIC of the same instance (a twin deployment, same client token).
    if (state.kind === 'held') return state.nicId === nicId && state.instanceId === command.instanceId ? [] : taken(address, command.networkName);
    return [{ type: 'NetworkAddressClaimed', data: { networkId, address, nicId, instanceId: command.instanceId } }];
  },

  evolve(_state, event) {
    return event.type === 'NetworkAddressClaimed' ? { kind: 'held', nicId: event.data.nicId, instanceId: event.data.instanceId } : { kind: 'free' };
  },
};

export type NicEvent = Extract<NetworkEvent, { type: 'NicAddressAllocated' | 'NicAddressReleased' }>;

/** A released NIC remembers its addresses: a release repeated after a crash still knows what to give back. */
export type NicState = { readonly kind: 'none' } | { readonly kind: 'allocated' | 'released'; readonly nic: NicAddress };

export type NicCommand =
  | { readonly type: 'RecordNicAddress'; readonly networkId: string; readonly nic: NicAddress }
  | { readonly type: 'ReleaseNicAddress'; readonly networkId: string; readonly nicId: string };

export const nicDecider: Decider<NicCommand, NicState, NicEvent> = {
  initialState: { kind: 'none' },

  decide(command, state) {
    const { networkId } = command;
    if (command.type === 'ReleaseNicAddress') {
      const invalid = requireId(command.nicId, 'nicId');
      if (invalid) return invalid;
      return state.kind === 'allocated' ? [{ type: 'NicAddressReleased', data: { networkId, ...state.nic } }] : [];
    }
    const nic = command.nic;
    const invalid = requireId(nic.nicId, 'nicId') ?? requireId(nic.instanceId, 'instanceId');
    if (invalid) return invalid;
    if (state.kind === 'allocated') {
      // Idempotent by NIC: a twin deployment (same client token) gets the addresses the first recorded.
      if (state.nic.instanceId === nic.instanceId) return [];
      return reject('CONFLICT', `NIC ${nic.nicId} already belongs to instance ${state.nic.instanceId}`, 'nicId');
    }
    return [{ type: 'NicAddressAllocated', data: { networkId, ...nic } }];
  },

  evolve(_state, event) {
    const { networkId: _networkId, ...nic } = event.data;
    return { kind: event.type === 'NicAddressAllocated' ? 'allocated' : 'released', nic };
  },
};
