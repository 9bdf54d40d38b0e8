// The SSH connection against a real OpenSSH server: the sshd of the libvirt testbed's host kvm-a
// (tests/testbed/libvirt.sh; see libvirt-driver.test.ts for how the testbed is found).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtTestbedLocation, readLibvirtTestbed, testbedHost, type TestbedHost } from '../testbed/libvirt-testbed.js';
import {
  HostKeyMismatchError,
  RemoteCommandError,
  SshClosedError,
  SshConnectError,
  SshConnection,
  SshConnectionLostError,
  SshTimeoutError,
  type SshConnectionOptions,
} from '../../adapters/ssh/index.js';

const location = libvirtTestbedLocation();

describe('ssh testbed', () => {
  it.runIf(location.required)('is described where VMLEDGER_TEST_LIBVIRT says', () => {
    expect(location.present, `VMLEDGER_TEST_LIBVIRT=${location.path} names no file`).toBe(true);
  });
});

const HOSTILE = [
  'two words',
  "it's",
  '"double" quotes',
  '$(touch /tmp/vmledger-ssh-test-pwned)',
  '`touch /tmp/vmledger-ssh-test-pwned`',
  '${HOME}',
  'line one\nline two',
  '',
  '*',
  '\\',
  '; touch /tmp/vmledger-ssh-test-pwned',
  "'; touch /tmp/vmledger-ssh-test-pwned; '",
  '-n',
];

describe.skipIf(!location.present)('ssh connection to a real sshd (needs the libvirt testbed: tests/testbed/libvirt.sh start, or VMLEDGER_TEST_LIBVIRT; see README)', () => {
  let host: TestbedHost;
  let connection: SshConnection;
  const options = (extra: Partial<SshConnectionOptions> = {}): SshConnectionOptions => ({
    host: host.address,
    port: host.sshPort,
    username: host.username,
    hostKeySha256: host.hostKeySha256,
    privateKeyPath: host.privateKeyPath,
    ...extra,
  });

  beforeAll(() => {
    host = testbedHost(readLibvirtTestbed(location.path), 'kvm-a');
    connection = new SshConnection(options());
  });
  afterAll(async () => {
    await connection?.close();
  });

  describe('login', () => {
    it('logs in with a private key', async () => {
      expect(await connection.exec(['id', '-un'])).toEqual({ stdout: `${host.username}\n`, stderr: '', exitCode: 0, signal: null });
    });

    it('logs in with a password', async () => {
      const byPassword = new SshConnection(options({ privateKeyPath: undefined, password: host.password }));
      try {
        expect((await byPassword.exec(['id', '-un'])).stdout).toBe(`${host.username}\n`);
      } finally {
        await byPassword.close();
      }
    });

    it('refuses a host whose key is not the pinned one, saying which key it presented', async () => {
      const pinned = `SHA256:${'A'.repeat(43)}`;
      const impostor = new SshConnection(options({ hostKeySha256: pinned }));
      try {
        const error = await impostor.exec(['true']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(HostKeyMismatchError);
        expect((error as HostKeyMismatchError).actual).toBe(host.hostKeySha256);
        expect((error as Error).message).toContain(`refusing to connect to ${host.username}@${host.address}:${host.sshPort}`);
        expect(impostor.isConnected).toBe(false);
      } finally {
        await impostor.close();
      }
    });

    it('fails a wrong password without repeating it', async () => {
      const secret = `wrong-${randomUUID()}`;
      const denied = new SshConnection(options({ privateKeyPath: undefined, password: secret }));
      try {
        const error = await denied.exec(['true']).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SshConnectError);
        expect((error as Error).message).toMatch(/authentication failed/);
        expect((error as Error).message).not.toContain(secret);
      } finally {
        await denied.close();
      }
    });
  });

  describe('commands', () => {
    it('keeps stdout, stderr and the exit status of a failing command', async () => {
      const result = await connection.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect(result).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3, signal: null });
      const error = await connection.run(['ls', '/no/such/dir']).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteCommandError);
      expect((error as RemoteCommandError).exitCode).toBe(2);
      expect((error as RemoteCommandError).stderr).toMatch(/No such file or directory/);
      expect((error as Error).message).toMatch(/`ls \/no\/such\/dir` on .* exited with status 2: ls: cannot access/);
    });

    it('passes hostile arguments through the remote shell verbatim and runs nothing in them', async () => {
      await connection.exec(['rm', '-f', '/tmp/vmledger-ssh-test-pwned']);
      const result = await connection.exec(['printf', '%s\\0', 'first', ...HOSTILE]);
      expect(result.stdout.split('\0').slice(1, -1)).toEqual(HOSTILE);
      expect((await connection.exec(['test', '-e', '/tmp/vmledger-ssh-test-pwned'])).exitCode).toBe(1);
    });

    it('feeds standard input', async () => {
      const input = 'line 1\nline 2 with ünïcödé\n';
      expect((await connection.exec(['cat'], { stdin: input })).stdout).toBe(input);
      expect((await connection.exec(['wc', '-c'], { stdin: Buffer.alloc(300_000, 7) })).stdout.trim()).toBe('300000');
      // Without stdin a command reading it sees its end at once.
      expect((await connection.exec(['cat'])).stdout).toBe('');
    });

    it('runs many commands at once on one connection, beyond sshd’s sessions limit', async () => {
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => connection.exec(['sh', '-c', `sleep 0.2; echo ${i}`])));
      expect(results.map((result) => result.stdout)).toEqual(Array.from({ length: 24 }, (_, i) => `${i}\n`));
    });

    it('fails a command that outlives its timeout', async () => {
      const started = Date.now();
      const error = await connection.exec(['sh', '-c', 'echo partial; sleep 30'], { timeoutMs: 500 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SshTimeoutError);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await connection.exec(['echo', 'still usable'])).stdout).toBe('still usable\n');
    });

    it('streams the output of a long-running command and ends it on request', async () => {
      const lines: string[] = [];
      const remote = connection.stream(['sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.1; done; sleep 60'], {
        onStdout: (chunk) => lines.push(...chunk.toString().split(/\r?\n/).filter((line) => line !== '')),
        pty: true,
      });
      const deadline = Date.now() + 10_000;
      while (lines.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(lines).toEqual(['line 1', 'line 2', 'line 3']);
      remote.stop();
      const exit = await remote.exited;
      expect(exit.exitCode).not.toBe(0);
    });
  });

  describe('a dropped connection', () => {
    it('fails the commands it carried and is opened again by the next command', async () => {
      const dropped = new SshConnection(options());
      try {
        const before = (await dropped.exec(['sh', '-c', 'echo $PPID'])).stdout.trim();
        const slow = dropped.exec(['sleep', '30']).catch((e: unknown) => e);
        // The session's sshd process dies, as when sshd restarts or the network drops the connection.
        const killed = await dropped.exec(['sh', '-c', 'kill -9 $PPID']).catch((e: unknown) => e);
        expect(killed).toBeInstanceOf(SshConnectionLostError);
        expect(await slow).toBeInstanceOf(SshConnectionLostError);
        const after = (await dropped.exec(['sh', '-c', 'echo $PPID'])).stdout.trim();
        expect(after).not.toBe(before);
        expect(dropped.isConnected).toBe(true);
      } finally {
        await dropped.close();
      }
    });

    it('refuses commands once closed', async () => {
      const closing = new SshConnection(options());
      await closing.exec(['true']);
      await closing.close();
      await expect(closing.exec(['true'])).rejects.toBeInstanceOf(SshClosedError);
    });
  });
});
