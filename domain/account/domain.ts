// Domain aggregate, stream `domain-<domainId>`: one node of CloudStack's domain tree. A domain also owns the
// names directly below it — child domains and accounts — because CloudStack makes those unique per
// domain; claiming a name is an append to this stream, so two concurrent createAccount calls with the same
// name cannot both succeed. The account's own stream is created only after its name is claimed here.

import { reject, type Decider, type DomainEvent } from '../shared/decider.js';
import { firstFailure, requireId, requireName, requireTimestamp } from '../config/validation.js';

export const DOMAIN_STREAM_PREFIX = 'domain-';

export function domainStream(domainId: string): string {
  return `${DOMAIN_STREAM_PREFIX}${domainId}`;
}

export const ROOT_DOMAIN_NAME = 'ROOT';
export const ROOT_DOMAIN_PATH = '/';

export interface NameClaim {
  readonly id: string;
  readonly name: string;
}

export interface DomainNode {
  readonly domainId: string;
  readonly name: string;
  readonly parentId: string | null;
  /** `/` for ROOT, `/child/grandchild/` below it; a subtree is every path with this prefix. */
  readonly path: string;
  readonly created: string;
  /** Keyed by lower-cased name: case-insensitive uniqueness, like CloudStack's database collation. */
  readonly childDomains: Readonly<Record<string, NameClaim>>;
  readonly accountNames: Readonly<Record<string, NameClaim>>;
}

export type DomainState = { readonly kind: 'absent' } | ({ readonly kind: 'domain' } & DomainNode);

export type DomainCommand =
  | {
      readonly type: 'CreateDomain';
      readonly domainId: string;
      readonly name: string;
      /** The parent as read from its stream (null only for ROOT); its name claim must already be appended. */
      readonly parent: { readonly domainId: string; readonly path: string } | null;
      readonly at: string;
    }
  | { readonly type: 'RegisterChildDomain'; readonly childDomainId: string; readonly name: string }
  | { readonly type: 'RegisterAccountName'; readonly accountId: string; readonly name: string }
  | { readonly type: 'ReleaseAccountName'; readonly accountId: string };

export type DomainEventType =
  | DomainEvent<
      'DomainCreated',
      { readonly domainId: string; readonly name: string; readonly parentId: string | null; readonly path: string; readonly created: string }
    >
  | DomainEvent<'ChildDomainRegistered', { readonly domainId: string; readonly childDomainId: string; readonly name: string }>
  | DomainEvent<'AccountNameRegistered', { readonly domainId: string; readonly accountId: string; readonly name: string }>
  | DomainEvent<'AccountNameReleased', { readonly domainId: string; readonly accountId: string; readonly name: string }>;

/** Whether `path` lies in the subtree rooted at `ancestorPath` (a domain admin's reach). */
export function isInDomainSubtree(ancestorPath: string, path: string): boolean {
  return path.startsWith(ancestorPath);
}

function claimOf(names: Readonly<Record<string, NameClaim>>, id: string): NameClaim | undefined {
  return Object.values(names).find((entry) => entry.id === id);
}

function claim(
  names: Readonly<Record<string, NameClaim>>,
  id: string,
  name: string,
  what: 'account' | 'domain',
  domain: DomainNode,
): 'already' | 'free' | ReturnType<typeof reject> {
  const key = name.toLowerCase();
  const owner = names[key];
  if (owner?.id === id) return 'already';
  if (owner !== undefined) return reject('CONFLICT', `${what === 'account' ? 'An account' : 'A domain'} named ${name} already exists in domain ${domain.path}`, 'name');
  if (claimOf(names, id) !== undefined) return reject('CONFLICT', `The ${what} ${id} is already registered in domain ${domain.path} under another name`, 'name');
  return 'free';
}

export const domainDecider: Decider<DomainCommand, DomainState, DomainEventType> = {
  initialState: { kind: 'absent' },

  decide(command, state) {
    if (command.type === 'CreateDomain') {
      const invalid = firstFailure(
        requireId(command.domainId, 'domainId'),
        requireName(command.name, 'name', 'Domain name'),
        command.name.includes('/') ? reject('BAD_USER_INPUT', 'Domain name must not contain "/"', 'name') : undefined,
        requireTimestamp(command.at),
      );
      if (invalid) return invalid;
      if (command.parent === null && command.name !== ROOT_DOMAIN_NAME) {
        return reject('BAD_USER_INPUT', `Only the ${ROOT_DOMAIN_NAME} domain has no parent`, 'parentDomainId');
      }
      if (state.kind === 'domain') return reject('CONFLICT', `Domain ${command.domainId} already exists`, 'domainId');
      const path = command.parent === null ? ROOT_DOMAIN_PATH : `${command.parent.path}${command.name}/`;
      return [
        {
          type: 'DomainCreated',
          data: { domainId: command.domainId, name: command.name, parentId: command.parent?.domainId ?? null, path, created: command.at },
        },
      ];
    }
    if (state.kind !== 'domain') return reject('NOT_FOUND', 'Domain does not exist', 'domainId');
    switch (command.type) {
      case 'RegisterChildDomain': {
        const invalid = firstFailure(
          requireId(command.childDomainId, 'childDomainId'),
          requireName(command.name, 'name', 'Domain name'),
          command.name.includes('/') ? reject('BAD_USER_INPUT', 'Domain name must not contain "/"', 'name') : undefined,
        );
        if (invalid) return invalid;
        const claimed = claim(state.childDomains, command.childDomainId, command.name, 'domain', state);
        if (claimed === 'already') return [];
        if (claimed !== 'free') return claimed;
        return [{ type: 'ChildDomainRegistered', data: { domainId: state.domainId, childDomainId: command.childDomainId, name: command.name } }];
      }
      case 'RegisterAccountName': {
        const invalid = firstFailure(requireId(command.accountId, 'accountId'), requireName(command.name, 'name', 'Account name'));
        if (invalid) return invalid;
        const claimed = claim(state.accountNames, command.accountId, command.name, 'account', state);
        if (claimed === 'already') return [];
        if (claimed !== 'free') return claimed;
        return [{ type: 'AccountNameRegistered', data: { domainId: state.domainId, accountId: command.accountId, name: command.name } }];
      }
      case 'ReleaseAccountName': {
        const invalid = requireId(command.accountId, 'accountId');
        if (invalid) return invalid;
        const held = claimOf(state.accountNames, command.accountId);
        return held === undefined
          ? []
          : [{ type: 'AccountNameReleased', data: { domainId: state.domainId, accountId: command.accountId, name: held.name } }];
      }
    }
  },

  evolve(state, event) {
    if (event.type === 'DomainCreated') return { kind: 'domain', ...event.data, childDomains: {}, accountNames: {} };
    if (state.kind !== 'domain') return state;
    switch (event.type) {
      case 'ChildDomainRegistered':
        return { ...state, childDomains: { ...state.childDomains, [event.data.name.toLowerCase()]: { id: event.data.childDomainId, name: event.data.name } } };
      case 'AccountNameRegistered':
        return { ...state, accountNames: { ...state.accountNames, [event.data.name.toLowerCase()]: { id: event.data.accountId, name: event.data.name } } };
      case 'AccountNameReleased': {
        const { [event.data.name.toLowerCase()]: _released, ...accountNames } = state.accountNames;
        return { ...state, accountNames };
      }
    }
  },
};
