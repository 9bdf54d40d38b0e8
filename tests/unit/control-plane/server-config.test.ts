import { describe, expect, it } from 'vitest';
import { readServerConfig } from '../../../api/config.js';
import { DEFAULT_TIMEOUTS } from '../../../api/stack.js';

describe('the main job settings', () => {
  it('defaults the agent and graceful-stop timeouts', () => {
    const config = readServerConfig({});
    expect(config.agentTimeoutMs).toBe(DEFAULT_TIMEOUTS.agentMs);
    expect(config.gracefulStopMs).toBe(DEFAULT_TIMEOUTS.gracefulStopMs);
    expect(config.busUrl).toBeUndefined();
  });

  it('takes the timeouts from the environment', () => {
    const config = readServerConfig({ VMLEDGER_AGENT_TIMEOUT_MS: '15000', VMLEDGER_GRACEFUL_STOP_MS: '5000', VMLEDGER_BUS_URL: 'amqp://127.0.0.1' });
    expect([config.agentTimeoutMs, config.gracefulStopMs, config.busUrl]).toEqual([15_000, 5_000, 'amqp://127.0.0.1']);
  });

  it.each(['0', '-5', '1.5', 'soon', '86400001'])('refuses VMLEDGER_AGENT_TIMEOUT_MS=%s with the variable named', (value) => {
    expect(() => readServerConfig({ VMLEDGER_AGENT_TIMEOUT_MS: value })).toThrow(/VMLEDGER_AGENT_TIMEOUT_MS must be a whole number/);
  });
});
