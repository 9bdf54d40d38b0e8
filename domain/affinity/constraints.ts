// What an instance's affinity groups ask of the planner (behaviour §6.3), as a pure function of the
// groups' members: the processors' `process()`. Strict anti-affinity avoids every host another member
// is on; strict affinity keeps the instance to the hosts the other members are on (when they are on any);
// non-strict groups adjust host priorities: +1 per affinity member, −1 per anti-affinity member on a
// host, a member on no host counting on its last host while it is Starting or Stopped and changed
// within `capacity.skipcounting.hours` (seconds, despite the name).
import type { AffinityGroupType } from './group.js';

export interface AffinityMember {
  readonly instanceId: string;
  /** The hosts it is on (two while it migrates); empty when on none. */
  readonly hostIds: readonly string[];
  readonly lastHostId: string | null;
  readonly state: string;
  /** When its state last changed (CloudStack's `update_time`). */
  readonly updatedAt: string;
}

export interface GroupMembership {
  readonly groupId: string;
  readonly name: string;
  readonly type: AffinityGroupType;
  readonly members: readonly AffinityMember[];
}

/** A strict group's hosts: those to avoid (anti-affinity) or to keep to (affinity). */
export interface GroupHosts {
  readonly groupName: string;
  readonly type: 'host affinity' | 'host anti-affinity';
  readonly hostIds: readonly string[];
}

export interface AffinityConstraints {
  readonly avoid: readonly GroupHosts[];
  readonly require: readonly GroupHosts[];
  /** Non-strict priorities per host (absent = 0). */
  readonly hostPriorities: Readonly<Record<string, number>>;
}

export const NO_AFFINITY: AffinityConstraints = { avoid: [], require: [], hostPriorities: {} };

/** ADJUST_HOST_PRIORITY_BY of DataCenterDeployment. */
const ADJUST_BY = 1;

export function affinityConstraints(
  instanceId: string,
  groups: readonly GroupMembership[],
  now: string,
  skipCountingSeconds: number,
): AffinityConstraints {
  const avoid: GroupHosts[] = [];
  const require: GroupHosts[] = [];
  const priorities: Record<string, number> = {};
  const since = Date.parse(now) - skipCountingSeconds * 1000;
  for (const group of groups) {
    const others = group.members.filter((m) => m.instanceId !== instanceId);
    if (group.type === 'host anti-affinity' || group.type === 'host affinity') {
      const hostIds = [...new Set(others.flatMap((m) => m.hostIds))];
      if (hostIds.length > 0) (group.type === 'host anti-affinity' ? avoid : require).push({ groupName: group.name, type: group.type, hostIds });
      continue;
    }
    const by = group.type === 'non-strict host affinity' ? ADJUST_BY : -ADJUST_BY;
    for (const member of others) {
      const counted =
        member.hostIds.length > 0
          ? member.hostIds.slice(0, 1)
          : member.lastHostId !== null && (member.state === 'Starting' || member.state === 'Stopped') && Date.parse(member.updatedAt) > since
            ? [member.lastHostId]
            : [];
      for (const hostId of counted) priorities[hostId] = (priorities[hostId] ?? 0) + by;
    }
  }
  return { avoid, require, hostPriorities: priorities };
}
