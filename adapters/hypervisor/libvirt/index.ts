export { LibvirtConfigError, parseLibvirtHostConfig, type LibvirtHostConfig, type LibvirtNicConfig } from './config.js';
export { buildDomainXml, domainUuid, scalingLimits, DomainSpecError } from './domain-xml.js';
export { LibvirtDriver, type LibvirtDriverOptions, type MigrationPeer } from './libvirt-driver.js';
