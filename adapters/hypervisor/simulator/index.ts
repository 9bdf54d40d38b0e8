export { SimulatedCloud, SimulatorDriver, type DiskImageDefinition, type ExternalHostDefinition, type SimulatorHostConfig, type UnmanagedDomainDefinition } from './simulated-cloud.js';
