// IPv4 and MAC arithmetic for guest networks, on plain numbers so it stays pure and fast.

export function parseIpv4(text: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Leading zeros are refused because some tools read them as octal.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Ipv4Cidr {
  readonly network: number;
  readonly prefix: number;
  readonly broadcast: number;
}

export const MIN_CIDR_PREFIX = 8;
// A /30 leaves the gateway and exactly one address for an instance; anything smaller has no room.
export const MAX_CIDR_PREFIX = 30;

export type CidrParse = { readonly ok: true; readonly cidr: Ipv4Cidr } | { readonly ok: false; readonly reason: string };

export function parseCidr(text: string): CidrParse {
  const match = typeof text === 'string' ? /^([^/]+)\/(\d{1,2})$/.exec(text) : null;
  if (!match) return { ok: false, reason: `${String(text)} is not an IPv4 CIDR such as 10.1.0.0/24` };
  const address = parseIpv4(match[1] ?? '');
  const prefix = Number(match[2]);
  if (address === undefined) return { ok: false, reason: `${text} does not start with a valid IPv4 address` };
  if (prefix < MIN_CIDR_PREFIX || prefix > MAX_CIDR_PREFIX) {
    return { ok: false, reason: `${text}: prefix length must be between ${MIN_CIDR_PREFIX} and ${MAX_CIDR_PREFIX}` };
  }
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  if (network !== address) return { ok: false, reason: `${text} has host bits set; the network is ${formatIpv4(network)}/${prefix}` };
  return { ok: true, cidr: { network, prefix, broadcast: network + size - 1 } };
}

export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

export function netmask(cidr: Ipv4Cidr): string {
  return formatIpv4(2 ** 32 - 2 ** (32 - cidr.prefix));
}

export function inCidr(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address <= cidr.broadcast;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;
const MAC_SPACE = 2 ** 32;

/** Lower-cased MAC, or undefined when malformed or multicast (a NIC address must be unicast). */
export function normalizeMac(text: string): string | undefined {
  if (typeof text !== 'string') return undefined;
  const lower = text.toLowerCase();
  if (!MAC.test(lower)) return undefined;
  const firstOctet = parseInt(lower.slice(0, 2), 16);
  return firstOctet % 2 === 1 ? undefined : lower;
}

/**
 * CloudStack's guest MACs: `02:00:` (locally administered, unicast) followed by 32 bits. The 32 bits
 * are (seed + sequence) mod 2^32: the seed comes from outside the domain so different networks do not all
 * start at the same address, the sequence makes the result a pure function of the stream's history.
 */
export function guestMac(seed: number, sequence: number): string {
  const value = (((seed + sequence) % MAC_SPACE) + MAC_SPACE) % MAC_SPACE;
  const bytes = [24, 16, 8, 0].map((shift) =>
    (Math.floor(value / 2 ** shift) % 256).toString(16).padStart(2, '0'),
  );
  return `02:00:${bytes.join(':')}`;
}

export const MAX_MAC_SEED = MAC_SPACE - 1;

export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}
