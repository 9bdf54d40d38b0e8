export { SimulatedCloud, SimulatorDriver, type SimulatorHostConfig, type UnmanagedDomainDefinition } from './simulated-cloud.js';
