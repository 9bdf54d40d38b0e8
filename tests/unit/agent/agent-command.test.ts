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

describe('vmledger agent', () => {
  it.each([
    [[], 'agent needs --config <file>'],
    [['--config', '@json'], 'is not JSON'],
    [['--config', '@nobus'], 'no bus: give --bus, busUrl in the file, or VMLEDGER_BUS_URL'],
    [['--config', '@nobus', '--bus', 'redis://x'], 'the bus URL must be an amqp:// or amqps:// URL'],
    [['--config', '@nohosts'], 'hosts must list at least one host'],
    [['--configg', 'x'], "Unknown option '--configg'"],
  ])('refuses %j before it connects to anything', async (args, message) => {
    const files: Record<string, string> = {
      '@json': file('broken.json', '{ hosts: '),
      '@nobus': file('nobus.json', JSON.stringify({ hosts: [validHost] })),
      '@nohosts': file('nohosts.json', JSON.stringify({ busUrl: 'amqp://127.0.0.1', hosts: [] })),
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
