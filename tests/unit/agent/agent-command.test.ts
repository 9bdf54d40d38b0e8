import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, runCommand } from '../../../api/cli/commands.js';

const dir = mkdtempSync(join(tmpdir(), 'vmledger-agent-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: NodeJS.ProcessEnv = {}) {
  return { stdout: new PassThrough(), stdoutFd: -1, stderr: new PassThrough(), env, signal: new AbortController().signal };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const validHost = {
  hostId: 'h-a',
  address: '10.0.0.5',
  username: 'vmhost',
  password: 'secret',
  hostKeySha256: `SHA256:${'A'.repeat(43)}`,
  storagePath: '/var/lib/vmledger/images',
  migrationUri: 'qemu+ssh://vmhost@10.0.0.5/system',
  migrationAddress: '10.0.0.5',
  nic: { mode: 'user' },
};

const keys = join(dir, 'agent-command-keys.json');

describe('vmledger agent', () => {
  it.each([
    [[], 'agent needs --config <file>'],
    [['--config', '@json'], 'is not JSON'],
    [['--config', '@nobus'], 'no bus: give --bus, busUrl in the file, or VMLEDGER_BUS_URL'],
    [['--config', '@nobus', '--bus', 'redis://x'], 'the bus URL must be an amqp:// or amqps:// URL'],
    [['--config', '@nohosts'], 'hosts must list at least one host'],
    [['--config', '@nokeys'], 'commandKeysFile must be a non-empty string'],
    [['--configg', 'x'], "Unknown option '--configg'"],
  ])('refuses %j before it connects to anything', async (args, message) => {
    const files: Record<string, string> = {
      '@json': file('broken.json', '{ hosts: '),
      '@nobus': file('nobus.json', JSON.stringify({ commandKeysFile: keys, hosts: [validHost] })),
      '@nohosts': file('nohosts.json', JSON.stringify({ busUrl: 'amqp://127.0.0.1', commandKeysFile: keys, hosts: [] })),
      '@nokeys': file('nokeys.json', JSON.stringify({ busUrl: 'amqp://127.0.0.1', hosts: [validHost] })),
    };
    const argv = ['agent', ...args.map((arg) => files[arg] ?? arg)];
    const error = await runCommand(argv, io()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toContain(message);
  });
});

describe('vmledger agent: its command keys', () => {
  it.each([
    ['a missing file', undefined, 'cannot read the command keys file'],
    ['a file that is no key ring', '{"current": {"id": "k1", "key": "c2hvcnQ="}}', '.current.key must be the base64 of at least 32 random bytes'],
  ])('stops at %s before it connects to anything, never showing the file', async (_what, content, message) => {
    const path = join(dir, `keys-${Math.random().toString(36).slice(2)}.json`);
    if (content !== undefined) writeFileSync(path, content);
    // Nothing listens on port 1: reaching for the broker would fail with another error.
    const config = file(`agent-${Math.random().toString(36).slice(2)}.json`, JSON.stringify({ busUrl: 'amqp://127.0.0.1:1', commandKeysFile: path, hosts: [validHost] }));
    const error = await runCommand(['agent', '--config', config], io()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain('c2hvcnQ=');
  });
});
