// Accounts, API keys and the first root admin. An account's name is claimed in its domain's stream
// before the account stream is created (CloudStack keeps names unique per domain); the new user's
// API key is generated here, shown to the caller once, and enters the log only as its hash.
import { randomBytes } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { EVENT_ID_NAMESPACE, type CommandEnvelope } from '../../adapters/eventstore/command-handler.js';
import {
  ROLES,
  ROOT_DOMAIN_NAME,
  ROOT_DOMAIN_PATH,
  accountDecider,
  accountStream,
  domainDecider,
  domainStream,
  hashApiKey,
  isInDomainSubtree,
  type AccountCommand,
} from '../../domain/account/index.js';
import { isRejection } from '../../domain/shared/decider.js';
import { findCallerByApiKeyHash, getAccount, getDomain, listAccounts, type AccountNode } from '../../projections/accounts/index.js';
import type { Connection, PageRequest } from '../../projections/pagination.js';
import { optionalString, requiredString } from './args.js';
import { createClaimed } from './claims.js';
import { db, envelopeOf, execute, now, settled, toApiError, type ControlPlaneContext } from './context.js';
import { ApiError, type Caller, type InfrastructureArgs } from './port.js';

/** The created account as createAccount returns it: the only time its user's API key is shown. */
export type CreatedAccount = AccountNode & { readonly apiKey: string };

/** Longer keys are refused before hashing: no key we issue is near this, and hashing is not free. */
export const MAX_API_KEY_LENGTH = 512;

/** 32 random bytes, base64url: 256 bits of entropy, header-safe, 43 characters. */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url');
}

function badInput(field: string, message: string): never {
  throw new ApiError('BAD_USER_INPUT', message, field);
}

/** Claims the name in the domain, then creates the account with its first user (see createClaimed). */
async function openAccount(
  context: ControlPlaneContext,
  envelope: CommandEnvelope,
  command: Extract<AccountCommand, { type: 'CreateAccount' }>,
): Promise<readonly number[]> {
  const { positions } = await createClaimed(
    context,
    envelope,
    {
      stream: domainStream(command.domainId),
      decider: domainDecider,
      claim: { type: 'RegisterAccountName', accountId: command.accountId, name: command.name },
      release: { type: 'ReleaseAccountName', accountId: command.accountId },
    },
    { stream: accountStream(command.accountId), decider: accountDecider, command },
  );
  return positions;
}

/** Root admin anywhere; a domain admin only USER accounts in its own subtree; a user never. */
export async function createAccount(context: ControlPlaneContext, caller: Caller, args: InfrastructureArgs): Promise<CreatedAccount> {
  if (caller.role === 'USER') throw new ApiError('FORBIDDEN', 'createAccount is for admins only; the caller is a USER');
  const name = requiredString(args, 'name');
  const roleText = requiredString(args, 'role');
  const role = ROLES.find((candidate) => candidate === roleText);
  if (role === undefined) badInput('role', `role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(roleText)}`);
  const domainId = optionalString(args, 'domainId') ?? caller.domainId;
  const domain = getDomain(db(context), domainId);
  // A domain outside a domain admin's subtree is as unknown to it as one that does not exist: telling
  // them apart would confirm the domain and name its path.
  const reachable = domain && (caller.role !== 'DOMAIN_ADMIN' || isInDomainSubtree(caller.domainPath, domain.path));
  if (!domain || !reachable) badInput('domainId', `Unable to find domain ${JSON.stringify(domainId)}`);
  if (caller.role === 'DOMAIN_ADMIN') {
    if (role !== 'USER') throw new ApiError('FORBIDDEN', `A domain admin may create USER accounts only, not ${role}`, 'role');
  }

  const accountId = context.newId();
  const apiKey = generateApiKey();
  const positions = await openAccount(context, envelopeOf(context, caller, accountId), {
    type: 'CreateAccount',
    accountId,
    domainId: domain.id,
    domainPath: domain.path,
    name,
    role,
    user: { userId: context.newId(), username: name, apiKey },
    at: now(context),
  });
  await settled(context, positions);
  const account = getAccount(db(context), accountId);
  if (!account) throw new ApiError('INTERNAL_ERROR', `account ${accountId} was created but cannot be read back`);
  return { ...account, apiKey };
}

/** Root admin: every account; domain admin: its subtree's; user: its own. */
export function accounts(context: ControlPlaneContext, caller: Caller, page: PageRequest): Connection<AccountNode> {
  const request = { first: page.first ?? null, after: page.after ?? null };
  try {
    if (caller.role === 'ROOT_ADMIN') return listAccounts(db(context), request);
    if (caller.role === 'DOMAIN_ADMIN') return listAccounts(db(context), { ...request, domainPath: caller.domainPath });
    return listAccounts(db(context), { ...request, ids: [caller.accountId] });
  } catch (error) {
    throw toApiError(error);
  }
}

/** The caller an API key belongs to; undefined for an unknown, malformed or disabled one. */
export function authenticate(context: ControlPlaneContext, apiKey: string): Caller | undefined {
  if (typeof apiKey !== 'string' || apiKey.length === 0 || apiKey.length > MAX_API_KEY_LENGTH) return undefined;
  const found = findCallerByApiKeyHash(db(context), hashApiKey(apiKey));
  if (!found || found.accountState !== 'enabled' || found.userState !== 'enabled') return undefined;
  return { userId: found.userId, accountId: found.accountId, role: found.role, domainId: found.domainId, domainPath: found.domainPath };
}

// The first root admin's ids are fixed, so two processes bootstrapping the same empty log converge on
// one ROOT domain and one admin (the loser of the race finds the streams already there).
export const ROOT_DOMAIN_ID = uuidv5('domain|ROOT', EVENT_ID_NAMESPACE);
export const ROOT_ADMIN_ACCOUNT_ID = uuidv5('account|ROOT|admin', EVENT_ID_NAMESPACE);
export const ROOT_ADMIN_USER_ID = uuidv5('user|ROOT|admin', EVENT_ID_NAMESPACE);
export const ROOT_ADMIN_NAME = 'admin';

export const ROOT_ADMIN: Caller = {
  userId: ROOT_ADMIN_USER_ID,
  accountId: ROOT_ADMIN_ACCOUNT_ID,
  role: 'ROOT_ADMIN',
  domainId: ROOT_DOMAIN_ID,
  domainPath: ROOT_DOMAIN_PATH,
};

async function streamExists(context: ControlPlaneContext, stream: string): Promise<boolean> {
  return (await context.store.readStream(stream, { maxCount: 1 })).length > 0;
}

/**
 * On an empty log: the ROOT domain and its `admin` account (ROOT_ADMIN) whose user holds `apiKey`.
 * Does nothing when the ROOT domain already exists, except finish an admin account that a crash
 * between the two steps left uncreated; an existing admin's key is never replaced. `created` says
 * whether this call created the ROOT domain, i.e. whether the log was new.
 */
export async function bootstrapRootAdmin(context: ControlPlaneContext, apiKey: string): Promise<{ created: boolean; caller: Caller }> {
  const envelope: CommandEnvelope = { actor: { kind: 'system', component: 'bootstrap' }, correlationId: ROOT_DOMAIN_ID, occurredAt: now(context) };
  const createAdmin: Extract<AccountCommand, { type: 'CreateAccount' }> = {
    type: 'CreateAccount',
    accountId: ROOT_ADMIN_ACCOUNT_ID,
    domainId: ROOT_DOMAIN_ID,
    domainPath: ROOT_DOMAIN_PATH,
    name: ROOT_ADMIN_NAME,
    role: 'ROOT_ADMIN',
    user: { userId: ROOT_ADMIN_USER_ID, username: ROOT_ADMIN_NAME, apiKey },
    at: now(context),
  };
  // A key the account would refuse must not leave a ROOT domain without its admin behind.
  const dryRun = accountDecider.decide(createAdmin, accountDecider.initialState);
  if (isRejection(dryRun)) throw new ApiError(dryRun.code, `The root admin's API key is unusable: ${dryRun.message}`, dryRun.field);
  const positions: number[] = [];
  let created = false;
  if (!(await streamExists(context, domainStream(ROOT_DOMAIN_ID)))) {
    try {
      const result = await execute(
        context,
        domainStream(ROOT_DOMAIN_ID),
        domainDecider,
        { type: 'CreateDomain', domainId: ROOT_DOMAIN_ID, name: ROOT_DOMAIN_NAME, parent: null, at: now(context) },
        envelope,
      );
      positions.push(...result.positions);
      created = true;
    } catch (error) {
      // Another process created it between the read and the append: the same outcome.
      if (!(error instanceof ApiError && error.code === 'CONFLICT')) throw error;
    }
  }
  if (!(await streamExists(context, accountStream(ROOT_ADMIN_ACCOUNT_ID)))) {
    try {
      positions.push(...(await openAccount(context, envelope, createAdmin)));
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'CONFLICT')) throw error;
    }
  }
  await settled(context, positions);
  return { created, caller: ROOT_ADMIN };
}
