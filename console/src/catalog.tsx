// The names behind the ids the instances carry (zones, offerings, templates, networks and, for the root
// admin, hosts), loaded once after sign-in and on demand, so every screen shows names, not UUIDs.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { gql, messageOf } from './api.ts';
import { allPages, type Connection, type Host, type Network, type ServiceOffering, type Template, type Zone } from './model.ts';
import { useSession } from './session.tsx';

export interface Catalog {
  zones: Zone[];
  offerings: ServiceOffering[];
  templates: Template[];
  networks: Network[];
  /** Root admin only; empty for others. */
  hosts: Host[];
  name(kind: 'zone' | 'offering' | 'template' | 'network' | 'host', id: string | null | undefined): string;
  reload(): Promise<void>;
  error: string | null;
}

const CatalogContext = createContext<Catalog | null>(null);

export function useCatalog(): Catalog {
  const catalog = useContext(CatalogContext);
  if (!catalog) throw new Error('useCatalog outside the catalog');
  return catalog;
}

const page = `pageInfo { hasNextPage endCursor } totalCount`;

/** Every node of a connection the caller may see, page by page. */
export function list<T>(field: string, selection: string): Promise<T[]> {
  return allPages((after) =>
    gql<Record<string, Connection<T>>>(`query($after: String) { ${field}(first: 100, after: $after) { nodes { ${selection} } ${page} } }`, { after }).then(
      (data) => data[field]!,
    ),
  );
}

export const HOST_FIELDS = `id name zoneId clusterId hypervisor driver state status resourceState cpuNumber cpuSpeed memory hostTags
  cpuTotal cpuAllocated memoryTotal memoryAllocated reservationCount removed capabilities`;
export const OFFERING_FIELDS = `id name displayText computeKind customized cpuNumber cpuSpeed memory minCpuNumber maxCpuNumber minMemory maxMemory
  hostTags dynamicScalingEnabled offerHa leaseDuration leaseExpiryAction removed`;

export function loadHosts(): Promise<Host[]> {
  return list<Host>('hosts', HOST_FIELDS);
}

export function CatalogProvider({ children }: { children: ReactNode }) {
  const { isRootAdmin } = useSession();
  const [state, setState] = useState<Omit<Catalog, 'name' | 'reload'>>({ zones: [], offerings: [], templates: [], networks: [], hosts: [], error: null });

  const reload = useCallback(async () => {
    try {
      const [zones, offerings, templates, networks, hosts] = await Promise.all([
        list<Zone>('zones', 'id name networkType allocationState created'),
        list<ServiceOffering>('serviceOfferings', OFFERING_FIELDS),
        list<Template>('templates', 'id name displayText osTypeName size format hypervisor zoneId isPublic removed'),
        list<Network>('networks', 'id name zoneId type vlan cidr accountId state removed'),
        isRootAdmin ? loadHosts() : Promise.resolve([]),
      ]);
      setState({ zones, offerings, templates, networks, hosts, error: null });
    } catch (error) {
      setState((previous) => ({ ...previous, error: messageOf(error) }));
    }
  }, [isRootAdmin]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const catalog = useMemo<Catalog>(() => {
    const maps = {
      zone: new Map(state.zones.map((z) => [z.id, z.name])),
      offering: new Map(state.offerings.map((o) => [o.id, o.name])),
      template: new Map(state.templates.map((t) => [t.id, t.name])),
      network: new Map(state.networks.map((n) => [n.id, n.name])),
      host: new Map(state.hosts.map((h) => [h.id, h.name])),
    };
    return {
      ...state,
      reload,
      name: (kind, id) => (id ? (maps[kind].get(id) ?? id.slice(0, 8)) : '—'),
    };
  }, [state, reload]);

  return <CatalogContext.Provider value={catalog}>{children}</CatalogContext.Provider>;
}
