import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brumeBackground, brumeCli } from '../support/cli.ts';
import { freshDatabase, TEST_DATABASE_URL, type TestDatabase } from '../support/databases.ts';

const CSV = [
  '"00:c0:4f:18:62:63","lab-01","192.0.2.11","Room 2","Windows 11",""',
  '"00-C0-4F-18-62-64","lab-02","","","",""',
  '"not-a-mac","lab-03","","","",""',
  '"00c04f186265","lab-01","","","",""',
  '"00c0.4f18.6266","lab-04","","","","no-such-image"',
].join('\r\n');

describe('brume CLI on the embedded database', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'brume-cli-'));
    env = { BRUME_DATA_DIR: join(dir, 'data'), BRUME_ADMIN_PASSWORD: 'admin password for tests', DATABASE_URL: '' };
    await writeFile(join(dir, 'hosts.csv'), CSV);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a FOG CSV with a per-line report and exit code 1 when lines were rejected', async () => {
    const dry = await brumeCli(['hosts', 'import', join(dir, 'hosts.csv'), '--dry-run'], env);
    expect(dry.stdout).toContain('would import 2 host(s); rejected 3 line(s)');
    const run = await brumeCli(['hosts', 'import', join(dir, 'hosts.csv')], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('imported 2 host(s); rejected 3 line(s)');
    expect(run.stdout).toContain('line 2: imported lab-02 00:c0:4f:18:62:64');
    expect(run.stdout).toMatch(/line 3: rejected: "not-a-mac" is not a MAC address/);
    expect(run.stdout).toContain('line 4: rejected: host name "lab-01" repeats line 1');
    expect(run.stdout).toContain('line 5: rejected: image "no-such-image" does not exist');
    const again = await brumeCli(['hosts', 'import', join(dir, 'hosts.csv'), '--json'], env);
    const report = JSON.parse(again.stdout);
    expect(report.imported).toEqual([]);
    expect(report.rejected.map((r: { line: number }) => r.line)).toEqual([1, 2, 3, 4, 5]);
    expect(report.rejected[0].reason).toBe('a host named "lab-01" already exists');
  });

  it('creates, cancels and replays tasks, naming hosts by name or MAC', async () => {
    const created = await brumeCli(['tasks', 'create', '--type', 'memtest', '--host', '00c0.4f18.6264', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    const task = JSON.parse(created.stdout);
    expect(task).toMatchObject({ typeName: 'Memory Test', hostName: 'lab-02', state: 'queued' });
    const busy = await brumeCli(['tasks', 'create', '--type', '4', '--host', 'lab-02'], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/already has an active task/);
    const noReason = await brumeCli(['tasks', 'cancel', task.id], env);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
    const cancelled = await brumeCli(['tasks', 'cancel', task.id, '--reason', 'wrong room'], env);
    expect(cancelled.stdout).toContain(`task ${task.id}: Memory Test on lab-02, cancelled (wrong room)`);
    const replayed = await brumeCli(['tasks', 'replay', task.id, '--json'], env);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ typeName: 'Memory Test', state: 'queued', replayOf: task.id });
    const unknown = await brumeCli(['tasks', 'create', '--type', 'deploy', '--host', 'nobody'], env);
    expect(unknown.stderr).toContain('no host has the id, name or MAC "nobody"');
    const badType = await brumeCli(['tasks', 'create', '--type', 'defrag', '--host', 'lab-01'], env);
    expect(badType.stderr).toContain('unknown task type "defrag"');
  });

  it('adds users, and records the chosen account as the actor of what it does', async () => {
    const added = await brumeCli(['users', 'add', 'op1', '--role', 'operator', '--password-stdin'], env, 'operator password 1\n');
    expect(added.stdout).toMatch(/user op1 created \(operator/);
    expect(added.stdout).not.toContain('operator password 1');
    const badRole = await brumeCli(['users', 'add', 'x', '--role', 'root'], env);
    expect(badRole.stderr).toContain('role must be one of admin, operator, auditor');
    const asOp = await brumeCli(['tasks', 'create', '--type', 'inventory', '--host', 'lab-01', '--as', 'op1', '--reason', 'yearly audit'], env);
    expect(asOp.code, asOp.stderr).toBe(0);
    const tail = await brumeCli(['events', 'tail', '--limit', '1', '--type', 'TaskCreated', '--json'], env);
    const event = JSON.parse(tail.stdout.trim());
    expect(event.metadata.reason).toBe('yearly audit');
    const users = await brumeCli(['events', 'tail', '--type', 'UserCreated', '--json'], env);
    const op1 = users.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.data.username === 'op1');
    expect(event.metadata.actor).toBe(op1.data.userId);
  });

  it('rebuilds the read models and refuses a second process on the same embedded database', async () => {
    const rebuilt = await brumeCli(['projections', 'rebuild'], env);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/rebuilt the read models from \d+ events/);
    const follower = brumeBackground(['events', 'tail', '--follow', '--limit', '1'], env);
    try {
      await follower.waitFor(/#\d+ /);
      const blocked = await brumeCli(['tasks', 'create', '--type', 'memtest', '--host', 'lab-01'], env);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(/embedded database in .* is in use by process \d+/);
    } finally {
      expect(await follower.stop()).toBe(0);
    }
  });

  it('explains usage mistakes with exit code 2', async () => {
    const none = await brumeCli([], env);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('usage: brume COMMAND');
    const unknownFlag = await brumeCli(['tasks', 'create', '--bogus'], env);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("Unknown option '--bogus'");
    const missing = await brumeCli(['hosts', 'import', join(dir, 'missing.csv')], env);
    expect(missing.stderr).toContain('cannot read');
  });
});

describe.skipIf(!TEST_DATABASE_URL)('brume CLI on PostgreSQL', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await freshDatabase('postgres');
    env = { DATABASE_URL: db.url!, BRUME_ADMIN_PASSWORD: 'admin password for tests' };
  });
  afterAll(async () => {
    await db?.dispose();
  });

  it('follows the history across processes: a command in one shows up in another\'s tail at once', async () => {
    await brumeCli(['hosts', 'import', '-'], env, '"52:54:00:12:34:56","pxe-1","","","",""\n');
    const follower = brumeBackground(['events', 'tail', '--follow', '--type', 'TaskCreated'], env);
    try {
      await new Promise((r) => setTimeout(r, 3000));
      const created = await brumeCli(['tasks', 'create', '--type', 'debug', '--host', 'pxe-1'], env);
      expect(created.code, created.stderr).toBe(0);
      await follower.waitFor(/TaskCreated task-/, 15_000);
    } finally {
      await follower.stop();
    }
  });
});

describe('brume serve and the boot responders', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'brume-serve-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

  it('says which UDP port it could not bind for TFTP and why, without a stack trace', async () => {
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(0, '127.0.0.1', resolve));
    const taken = squatter.address().port;
    try {
      const run = await brumeCli(['serve'], {
        DATABASE_URL: '', BRUME_DATA_DIR: dataDir(), BRUME_ADMIN_PASSWORD: 'serve-test-password', BRUME_HTTP_HOST: '127.0.0.1', BRUME_HTTP_PORT: '0',
        BRUME_TFTP: 'on', BRUME_TFTP_HOST: '127.0.0.1', BRUME_TFTP_PORT: String(taken), BRUME_LOG_LEVEL: 'silent',
      });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(new RegExp(`port ${taken}`));
      expect(run.stderr).toMatch(/already|in use/i);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      squatter.close();
    }
  });

  it('warns, naming the files and the script that installs them, when TFTP serves a directory without the iPXE binaries', async () => {
    const server = brumeBackground(['serve'], {
      DATABASE_URL: '', BRUME_DATA_DIR: dataDir(), BRUME_ADMIN_PASSWORD: 'serve-test-password', BRUME_HTTP_HOST: '127.0.0.1', BRUME_HTTP_PORT: '0',
      BRUME_LOG_LEVEL: 'warn', BRUME_DHCP_MODE: '', BRUME_TFTP: 'on', BRUME_TFTP_HOST: '127.0.0.1', BRUME_TFTP_PORT: '0', BRUME_BOOT_FILES_DIR: dataDir(),
    });
    try {
      await server.waitFor(/listening on/, 60_000);
      expect(server.output.stderr).toMatch(/\[warn\] boot files missing from .*: undionly\.kpxe, ipxe\.efi;.*infra\/boot-files\/install-ipxe\.sh/);
      expect(server.output.stderr).toMatch(/TFTP on 127\.0\.0\.1:\d+/);
    } finally {
      await server.stop();
    }
  });

  it('refuses DHCP on an interface that does not exist, naming the variable', async () => {
    const run = await brumeCli(['serve'], {
      DATABASE_URL: '', BRUME_DATA_DIR: dataDir(), BRUME_HTTP_PORT: '0', BRUME_DHCP_MODE: 'proxy', BRUME_DHCP_INTERFACE: 'nosuchif0',
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/BRUME_DHCP_INTERFACE/);
    expect(run.stderr).toMatch(/nosuchif0/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('starts with DHCP off by default and says how to turn it on; serves boot scripts over HTTP', async () => {
    const server = brumeBackground(['serve'], {
      DATABASE_URL: '', BRUME_DATA_DIR: dataDir(), BRUME_ADMIN_PASSWORD: 'serve-test-password', BRUME_HTTP_HOST: '127.0.0.1', BRUME_HTTP_PORT: '0',
      BRUME_LOG_LEVEL: 'silent', BRUME_DHCP_MODE: '', BRUME_TFTP: '',
    });
    try {
      await server.waitFor(/listening on/, 60_000);
      expect(server.output.stderr).toMatch(/DHCP off \(set BRUME_DHCP_MODE=proxy or full/);
      expect(server.output.stderr).not.toMatch(/TFTP on/);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output.stderr)?.[1];
      expect(Number(port)).toBeGreaterThan(0);
      const script = await fetch(`http://127.0.0.1:${port}/boot/ipxe?mac=52-54-00-AB-CD-EF&platform=efi`);
      expect(script.status).toBe(200);
      expect(await script.text()).toMatch(/^#!ipxe\n[\s\S]*unregistered machine 52:54:00:ab:cd:ef/);
      // A file brume generates: the chain script for sites whose own DHCP server names the boot file.
      const chain = await fetch(`http://127.0.0.1:${port}/boot/files/brume.ipxe`);
      expect(await chain.text()).toMatch(/^#!ipxe\n[\s\S]*chain http:\/\/[^ ]+\/boot\/ipxe\?mac=\$\{mac\}&arch=\$\{buildarch\}/);
    } finally {
      await server.stop();
    }
  });
});
