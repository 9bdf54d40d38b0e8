// Guest networks and the addresses their NICs hold: the networks from the `network-<id>` streams, the
// NICs from their own (`networknic-`), every address held from its claim (`networkaddress-`) or, in an
// older log, from the network stream's allocation. The held IPs, as numbers, are where a deployment
// looks for a free address first (sagas/nic-addresses.ts); the address's stream has the last word.
import {
  NETWORK_ADDRESS_STREAM_PREFIX,
  NETWORK_STREAM_PREFIX,
  NIC_STREAM_PREFIX,
  isMacAddress,
  parseIpv4,
  type NetworkAddressEvent,
  type NetworkEvent,
} from '../../../domain/network/index.js';
import type { Projection } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime, occurredAt } from '../../sql.js';

export const networkProjection: Projection = {
  name: 'infra_network',
  version: 3,
  schema: `
    CREATE TABLE infra_network (
      id                  TEXT PRIMARY KEY,
      name                TEXT NOT NULL,
      zone_id             TEXT NOT NULL,
      type                TEXT NOT NULL,
      vlan                INTEGER,
      cidr                TEXT,
      gateway             TEXT,
      netmask             TEXT,
      network_offering_id TEXT NOT NULL,
      account_id          TEXT,
      deleted             INTEGER NOT NULL DEFAULT 0,
      created             TEXT NOT NULL
    );
    CREATE INDEX infra_network_by_created ON infra_network (deleted, created, id);
    CREATE INDEX infra_network_by_zone ON infra_network (zone_id, deleted, created, id);
    CREATE TABLE infra_network_address (
      network_id  TEXT NOT NULL,
      nic_id      TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      mac         TEXT NOT NULL,
      ip          TEXT,
      -- Log position of the allocation: lists addresses in the order they were handed out.
      position    INTEGER NOT NULL,
      -- When: an address whose instance was never recorded is given back after a grace period.
      allocated_at TEXT NOT NULL,
      PRIMARY KEY (network_id, nic_id)
    ) WITHOUT ROWID;
    CREATE INDEX infra_network_address_by_position ON infra_network_address (network_id, position, nic_id);
    CREATE INDEX infra_network_address_by_instance ON infra_network_address (instance_id);
    CREATE TABLE infra_network_claim (
      network_id  TEXT NOT NULL,
      address     TEXT NOT NULL,
      -- The IP as a number (NULL for a MAC): free addresses are found in order without parsing.
      ip_value    INTEGER,
      nic_id      TEXT NOT NULL,
      instance_id TEXT NOT NULL,
      claimed_at  TEXT NOT NULL,
      PRIMARY KEY (network_id, address)
    ) WITHOUT ROWID;
    CREATE INDEX infra_network_claim_by_ip ON infra_network_claim (network_id, ip_value) WHERE ip_value IS NOT NULL;
    -- Held IPs per block of 256 addresses (ip_value >> 8): a free address is looked for in the first
    -- block not full, so finding one reads a row per block and one block's claims, however many are held.
    CREATE TABLE infra_network_ip_block (
      network_id TEXT NOT NULL,
      block      INTEGER NOT NULL,
      held       INTEGER NOT NULL,
      PRIMARY KEY (network_id, block)
    ) WITHOUT ROWID;
  `,
  filter: { streamNamePrefixes: [NETWORK_STREAM_PREFIX, NIC_STREAM_PREFIX, NETWORK_ADDRESS_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<NetworkEvent | NetworkAddressEvent>(recorded);
    // An older log allocated on the network stream: its addresses are held claims too.
    const legacy = recorded.stream.startsWith(NETWORK_STREAM_PREFIX);
    const claim = (networkId: string, address: string, nicId: string, instanceId: string) => {
      const ip = isMacAddress(address) ? null : (parseIpv4(address) ?? null);
      const held = db.get('SELECT 1 AS held FROM infra_network_claim WHERE network_id = ? AND address = ?', networkId, address) !== undefined;
      db.run(
        `INSERT OR REPLACE INTO infra_network_claim (network_id, address, ip_value, nic_id, instance_id, claimed_at) VALUES (?, ?, ?, ?, ?, ?)`,
        networkId,
        address,
        ip,
        nicId,
        instanceId,
        occurredAt(recorded),
      );
      if (ip !== null && !held) {
        db.run('INSERT INTO infra_network_ip_block (network_id, block, held) VALUES (?, ?, 1) ON CONFLICT DO UPDATE SET held = held + 1', networkId, Math.floor(ip / 256));
      }
    };
    const unclaim = (networkId: string, address: string) => {
      const row = db.get<{ ip: number | null }>('SELECT ip_value AS ip FROM infra_network_claim WHERE network_id = ? AND address = ?', networkId, address);
      if (row === undefined) return;
      db.run('DELETE FROM infra_network_claim WHERE network_id = ? AND address = ?', networkId, address);
      if (row.ip !== null) db.run('UPDATE infra_network_ip_block SET held = held - 1 WHERE network_id = ? AND block = ?', networkId, Math.floor(row.ip / 256));
    };
    switch (event.type) {
      case 'NetworkAddressClaimed':
        claim(event.data.networkId, event.data.address, event.data.nicId, event.data.instanceId);
        return;
      case 'NetworkAddressReleased':
        unclaim(event.data.networkId, event.data.address);
        return;
      case 'NetworkCreated': {
        const n = event.data;
        db.run(
          `INSERT INTO infra_network (id, name, zone_id, type, vlan, cidr, gateway, netmask, network_offering_id, account_id, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          n.networkId,
          n.name,
          n.zoneId,
          n.networkType,
          n.vlan,
          n.cidr,
          n.gateway,
          n.netmask,
          n.networkOfferingId,
          n.accountId,
          canonicalTime(n.created),
        );
        return;
      }
      case 'NicAddressAllocated': {
        const a = event.data;
        db.run(
          `INSERT INTO infra_network_address (network_id, nic_id, instance_id, mac, ip, position, allocated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          a.networkId,
          a.nicId,
          a.instanceId,
          a.mac,
          a.ip,
          recorded.position,
          occurredAt(recorded),
        );
        if (legacy) {
          claim(a.networkId, a.mac, a.nicId, a.instanceId);
          if (a.ip !== null) claim(a.networkId, a.ip, a.nicId, a.instanceId);
        }
        return;
      }
      case 'NicAddressReleased':
        db.run('DELETE FROM infra_network_address WHERE network_id = ? AND nic_id = ?', event.data.networkId, event.data.nicId);
        if (legacy) {
          unclaim(event.data.networkId, event.data.mac);
          if (event.data.ip !== null) unclaim(event.data.networkId, event.data.ip);
        }
        return;
      case 'NetworkDeleted':
        db.run('UPDATE infra_network SET deleted = 1 WHERE id = ?', event.data.networkId);
        return;
    }
  },
};
