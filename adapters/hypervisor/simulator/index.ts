export { SimulatedCloud, SimulatorDriver, type ExternalHostDefinition, type SimulatorHostConfig, type UnmanagedDomainDefinition } from './simulated-cloud.js';
