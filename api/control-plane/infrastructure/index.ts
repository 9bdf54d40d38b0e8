// The root admin's infrastructure operations of API.md: zones, clusters, hosts, primary storage,
// guest networks, offerings, templates and configuration, and the lists of them. Arguments arrive as
// the GraphQL layer got them; each operation checks their types and the ids they reference against
// the read model, hands the owning aggregate one command (whose own validation has the last word),
// and returns the new node once the read model shows it.
//
// CloudStack lets every caller list zones, offerings, the templates it may use and the networks it may
// attach to; the physical side (clusters, hosts, storage) and the settings are the root admin's.
export { addCluster, clusters, createZone, zones } from './zones.js';
export { DEFAULT_SIMULATOR_HOST, addHost, hosts, type InfrastructureServices } from './hosts.js';
export { DEFAULT_POOL_CAPACITY_BYTES, createStoragePool, storagePools } from './storage.js';
export { createNetwork, defaultNetworkOfferingId, networks } from './networks.js';
export { createDiskOffering, createServiceOffering, diskOfferings, serviceOfferings } from './offerings.js';
export { registerTemplate, templates } from './templates.js';
export { configurations, updateConfiguration } from './configuration.js';
