// Signing in: the API key lives in the tab's sessionStorage only (never in a URL, gone with the tab).
// The API has no "who am I" query, so the role is read from what the key may see: only the root admin
// may list hosts, and a USER sees exactly its own account (docs/api.md, "Authentication and roles").
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError, gql, onUnauthenticated, setApiKey } from './api.ts';
import { allPages, type Account, type Connection, type Role } from './model.ts';

const STORAGE_KEY = 'vmledger.apiKey';

export interface Session {
  readonly role: Role;
  /** The account's name when the key's own account is known (a USER's); null for admins. */
  readonly accountName: string | null;
  /**
   * The key's own account when it can be told: a USER's only account; for an admin, the one visible
   * account of its role (the API has no "who am I"); null when several could be it.
   */
  readonly ownAccountId: string | null;
  /** Every account the caller may see, by id, to name owners and actors. */
  readonly accountNames: ReadonlyMap<string, string>;
  readonly accounts: readonly Account[];
  readonly isAdmin: boolean;
  readonly isRootAdmin: boolean;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

interface Identity {
  role: Role;
  accounts: Account[];
}

async function identify(key: string): Promise<Identity> {
  const accounts = await allPages((after) =>
    gql<{ accounts: Connection<Account> }>(
      `query($after: String) { accounts(first: 200, after: $after) { nodes { id name role domainId domainPath state created } pageInfo { hasNextPage endCursor } totalCount } }`,
      { after },
      key,
    ).then((data) => data.accounts),
  );
  try {
    await gql(`{ hosts(first: 1) { totalCount } }`, {}, key);
    return { role: 'ROOT_ADMIN', accounts };
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== 'FORBIDDEN') throw error;
  }
  const onlyUser = accounts.length === 1 && accounts[0]?.role === 'USER';
  return { role: onlyUser ? 'USER' : 'DOMAIN_ADMIN', accounts };
}

export function SessionProvider({ signedIn, signedOut }: { signedIn: ReactNode; signedOut: (signIn: (key: string) => Promise<void>, note: string | null) => ReactNode }) {
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [restoring, setRestoring] = useState(() => sessionStorage.getItem(STORAGE_KEY) !== null);
  const [note, setNote] = useState<string | null>(null);

  const signOut = useCallback((why: string | null = null) => {
    sessionStorage.removeItem(STORAGE_KEY);
    setApiKey(null);
    setIdentity(null);
    setNote(why);
  }, []);

  const signIn = useCallback(async (key: string) => {
    const found = await identify(key);
    sessionStorage.setItem(STORAGE_KEY, key);
    setApiKey(key);
    setNote(null);
    setIdentity(found);
  }, []);

  useEffect(() => {
    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored === null) return;
    signIn(stored)
      .catch((error: unknown) => signOut(error instanceof Error ? error.message : String(error)))
      .finally(() => setRestoring(false));
  }, [signIn, signOut]);

  useEffect(() => onUnauthenticated(() => signOut('The API no longer accepts this key: sign in again.')), [signOut]);

  const session = useMemo<Session | null>(() => {
    if (!identity) return null;
    const { role, accounts } = identity;
    const ofMyRole = accounts.filter((account) => account.role === role);
    return {
      ownAccountId: ofMyRole.length === 1 ? ofMyRole[0]!.id : null,
      role,
      accounts,
      accountName: role === 'USER' ? (accounts[0]?.name ?? null) : null,
      accountNames: new Map(accounts.map((account) => [account.id, account.name])),
      isAdmin: role !== 'USER',
      isRootAdmin: role === 'ROOT_ADMIN',
      signOut: () => signOut(null),
    };
  }, [identity, signOut]);

  if (restoring && !session) return <p className="muted page-pad">Signing in…</p>;
  if (!session) return <>{signedOut(signIn, note)}</>;
  return <SessionContext.Provider value={session}>{signedIn}</SessionContext.Provider>;
}
