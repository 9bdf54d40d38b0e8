// Region aggregate, stream `region-local`. CloudStack's zones belong to a region (one, `Local`, unless
// regions are configured) and zone names are unique across it (ConfigurationManagerImpl
// checkZoneParameters). The region owns those names: a zone's name is claimed by an append here before
// its own stream is created, so two concurrent createZone calls with one name cannot both succeed.
import { reject, type Decider, type DomainEvent } from '../shared/decider.js';
import { firstFailure, requireId, requireName } from '../config/validation.js';

export const REGION_STREAM_PREFIX = 'region-';
/** The one region there is: CloudStack's `Local`. */
export const REGION_STREAM = `${REGION_STREAM_PREFIX}local`;

export interface ZoneNameClaim {
  readonly zoneId: string;
  readonly name: string;
}

export interface RegionState {
  /** Keyed by lower-cased name: CloudStack's lookup goes through a case-insensitive collation. */
  readonly zoneNames: Readonly<Record<string, ZoneNameClaim>>;
}

export type RegionCommand =
  | { readonly type: 'RegisterZoneName'; readonly zoneId: string; readonly name: string }
  | { readonly type: 'ReleaseZoneName'; readonly zoneId: string };

export type RegionEvent =
  | DomainEvent<'ZoneNameRegistered', ZoneNameClaim>
  | DomainEvent<'ZoneNameReleased', ZoneNameClaim>;

const claimOf = (state: RegionState, zoneId: string): ZoneNameClaim | undefined => Object.values(state.zoneNames).find((claim) => claim.zoneId === zoneId);

export const regionDecider: Decider<RegionCommand, RegionState, RegionEvent> = {
  initialState: { zoneNames: {} },

  decide(command, state) {
    switch (command.type) {
      case 'RegisterZoneName': {
        const invalid = firstFailure(requireId(command.zoneId, 'zoneId'), requireName(command.name, 'name', 'Zone name'));
        if (invalid) return invalid;
        const holder = state.zoneNames[command.name.toLowerCase()];
        if (holder?.zoneId === command.zoneId) return [];
        if (holder !== undefined) return reject('CONFLICT', `A zone with that name already exists. Please specify a unique zone name. (${command.name})`, 'name');
        if (claimOf(state, command.zoneId) !== undefined) return reject('CONFLICT', `Zone ${command.zoneId} already holds another name`, 'zoneId');
        return [{ type: 'ZoneNameRegistered', data: { zoneId: command.zoneId, name: command.name } }];
      }
      case 'ReleaseZoneName': {
        const held = claimOf(state, command.zoneId);
        return held === undefined ? [] : [{ type: 'ZoneNameReleased', data: held }];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ZoneNameRegistered':
        return { zoneNames: { ...state.zoneNames, [event.data.name.toLowerCase()]: event.data } };
      case 'ZoneNameReleased': {
        const { [event.data.name.toLowerCase()]: _released, ...zoneNames } = state.zoneNames;
        return { zoneNames };
      }
    }
  },
};
