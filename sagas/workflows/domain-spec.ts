// What a host is told about an instance: its size, NICs and volumes, as the domain must be defined.
import type { Instance } from '../../domain/instance/index.js';
import type { Resources } from './workflow.js';

export function resourcesOf(instance: Instance): Resources {
  return { cpuNumber: instance.cpuNumber, cpuSpeed: instance.cpuSpeed, memory: instance.memory };
}

export function volumeSpecs(instance: Instance) {
  return instance.volumes.map((v) => ({ volumeId: v.id, type: v.type, size: v.size, templateId: v.templateId, ...(v.path === undefined ? {} : { path: v.path }), ...(v.imported ? { imported: true as const } : {}) }));
}

export function domainSpec(instance: Instance) {
  return {
    instanceId: instance.id,
    instanceName: instance.instanceName,
    ...resourcesOf(instance),
    nics: instance.nics.map((nic) => ({ nicId: nic.id, networkId: nic.networkId, mac: nic.macAddress, ip: nic.ipAddress, vlan: nic.vlan ?? null, deviceId: nic.deviceId })),
    volumes: volumeSpecs(instance).filter((v) => instance.volumes.find((x) => x.id === v.volumeId)?.state !== 'Destroy'),
  };
}
