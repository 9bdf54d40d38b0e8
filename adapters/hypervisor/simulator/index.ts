export {
  DEFAULT_SIMULATOR_CAPABILITIES,
  SimulatedCloud,
  SimulatorDriver,
  simulatedVmxPath,
  type ExternalHostDefinition,
  type SimulatorHostConfig,
  type UnmanagedDomainDefinition,
  type VmwareHostDefinition,
} from './simulated-cloud.js';
