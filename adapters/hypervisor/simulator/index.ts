export { SimulatedCloud, SimulatorDriver, type SimulatorHostConfig } from './simulated-cloud.js';
