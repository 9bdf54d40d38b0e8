// Guest networks and the addresses their NICs hold, from the `network-<id>` streams.
import { NETWORK_STREAM_PREFIX, type NetworkEvent } from '../../../domain/network/index.js';
import type { Projection } from '../../projection.js';
import { toDomainEvent } from '../../../adapters/eventstore/domain-event.js';
import { canonicalTime, occurredAt } from '../../sql.js';

export const networkProjection: Projection = {
  name: 'infra_network',
  version: 2,
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
  `,
  filter: { streamNamePrefixes: [NETWORK_STREAM_PREFIX] },
  handle(recorded, db) {
    const event = toDomainEvent<NetworkEvent>(recorded);
    switch (event.type) {
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
        return;
      }
      case 'NicAddressReleased':
        db.run('DELETE FROM infra_network_address WHERE network_id = ? AND nic_id = ?', event.data.networkId, event.data.nicId);
        return;
      case 'NetworkDeleted':
        db.run('UPDATE infra_network SET deleted = 1 WHERE id = ?', event.data.networkId);
        return;
    }
  },
};
