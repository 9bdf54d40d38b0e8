import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN_JOB_NODE_OPTIONS, readServerConfig } from '../../../api/config.js';
import { PROJECT_ROOT } from '../../support/child-process.js';
import { DEFAULT_STATE_CACHE_SIZE } from '../../../adapters/eventstore/commander.js';
import { DEFAULT_TIMEOUTS } from '../../../api/stack.js';
import { DEFAULT_HISTORY_CACHE_SIZE } from '../../../sagas/stream-history.js';

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

  it('bounds the caches by default and takes their sizes from the environment', () => {
    expect(readServerConfig({})).toMatchObject({ stateCacheSize: DEFAULT_STATE_CACHE_SIZE, historyCacheSize: DEFAULT_HISTORY_CACHE_SIZE });
    expect(readServerConfig({ VMLEDGER_STATE_CACHE_SIZE: '100', VMLEDGER_HISTORY_CACHE_SIZE: '10' })).toMatchObject({ stateCacheSize: 100, historyCacheSize: 10 });
  });

  it.each(['VMLEDGER_STATE_CACHE_SIZE', 'VMLEDGER_HISTORY_CACHE_SIZE'])('refuses a %s that is not a whole number of at least 1, naming it', (name) => {
    for (const value of ['0', '-1', '2.5', 'lots']) expect(() => readServerConfig({ [name]: value })).toThrow(new RegExp(`${name} must be a whole number.*got "${value}"`));
  });

  it.each(['0', '-5', '1.5', 'soon', '86400001'])('refuses VMLEDGER_AGENT_TIMEOUT_MS=%s with the variable named', (value) => {
    expect(() => readServerConfig({ VMLEDGER_AGENT_TIMEOUT_MS: value })).toThrow(/VMLEDGER_AGENT_TIMEOUT_MS must be a whole number/);
  });

  it('is started by npm start with the heap the benchmarks measure it in', () => {
    const start = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    expect(start).toContain(`node ${MAIN_JOB_NODE_OPTIONS.join(' ')} dist/api/main.js`);
  });
});
