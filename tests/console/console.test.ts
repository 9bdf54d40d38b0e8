// The web console in a real browser: Debian's Chromium, headless, driven by playwright-core, against the
// whole application served in-process by the end-to-end harness (simulated hosts, demo zone) with the
// console built from console/ (built here first when dist/console is missing or older than its source).
// One browser for the file; each role signs in in its own context (its own sessionStorage). With
// VMLEDGER_SCREENSHOTS=1 the screenshots of the main screens are written to docs/console/, which the
// README shows; without it nothing tracked is touched, so a test run leaves the work tree clean.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SIMULATOR_CAPABILITIES } from '../../adapters/hypervisor/simulator/index.js';
import { DEMO_UNMANAGED_DOMAIN } from '../../api/control-plane/demo.js';
import { addSmallZone, ADMIN_KEY, startHarness, type Harness, type Job } from '../e2e/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(import.meta.dirname, '..', '..');
const BUILT = join(ROOT, 'dist', 'console');
const SHOTS = join(ROOT, 'docs', 'console');
const TAKE_SHOTS = process.env['VMLEDGER_SCREENSHOTS'] === '1';
/** Every wait on the page; the simulator answers in milliseconds, so this only bounds a failure. */
const UI_WAIT_MS = 10_000;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`tests/console: ${CHROMIUM} is missing, so the browser tests are skipped (apt-get install chromium; npm run test:all installs it)`);

/** The newest modification time under a directory. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds the console unless dist/console is newer than everything it is built from. */
function ensureBuilt(): void {
  const index = join(BUILT, 'index.html');
  const sources = Math.max(newest(join(ROOT, 'console')), ...['domain/schedule/cron.ts', 'package-lock.json'].map((file) => statSync(join(ROOT, file)).mtimeMs));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--config', 'console/vite.config.ts'], { cwd: ROOT, stdio: 'pipe' });
}

describe.skipIf(!haveChromium)(`the web console in Chromium${haveChromium ? '' : ` (skipped: ${CHROMIUM} is missing)`}`, () => {
  let h: Harness;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  const pageErrors: string[] = [];
  /** What the pages received over the WebSocket (graphql-transport-ws messages). */
  const pushes: string[] = [];
  const name = `web-${Date.now().toString(36)}`;
  let instanceId = '';

  async function signedIn(key: string, viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, timezoneId: 'Europe/Paris', locale: 'en-GB' });
    context.setDefaultTimeout(UI_WAIT_MS);
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('websocket', (socket) => socket.on('framereceived', (frame) => pushes.push(String(frame.payload))));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(h.origin);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return { context, page };
  }

  async function shot(page: Page, file: string): Promise<void> {
    if (!TAKE_SHOTS) return;
    await page.screenshot({ path: join(SHOTS, file), fullPage: true });
  }

  beforeAll(async () => {
    ensureBuilt();
    if (TAKE_SHOTS) mkdirSync(SHOTS, { recursive: true });
    // Room for a slow host (below) to take seconds over a start, so a page can show the job's step.
    h = await startHarness({ agentTimeoutMs: 10_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Debian's Chromium as root in a sandbox-less container; no background calls to Google's hosts.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.stop();
  });

  it('signs in with an API key kept in the tab, never in the URL, and refuses a wrong one in words', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(h.origin);
    await shot(page, 'sign-in.png');
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/API key/i);
    await context.close();

    admin = await signedIn(ADMIN_KEY);
    const { page: signed } = admin;
    expect(signed.url()).toBe(`${h.origin}/instances`);
    expect(signed.url()).not.toContain(ADMIN_KEY);
    expect(await signed.evaluate(() => sessionStorage.getItem('vmledger.apiKey'))).toBe(ADMIN_KEY);
    expect(await signed.evaluate(() => localStorage.length)).toBe(0);
    await expect.poll(() => signed.locator('.role').textContent()).toContain('root admin');
    await signed.getByText('No instances yet.').waitFor();
  });

  it('deploys through the wizard, and the row reaches Running without a reload', async () => {
    const { page } = admin;
    await page.evaluate(() => ((window as unknown as { stillTheSamePage: boolean }).stillTheSamePage = true));
    await page.getByRole('link', { name: 'Deploy an instance' }).click();
    await page.getByRole('radio', { name: /demo-zone/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /demo-linux/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Small Instance/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: /demo-shared/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Name (host name, optional)').fill(name);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Review' }).waitFor();
    await shot(page, 'deploy-review.png');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();

    const row = page.locator(`tr[data-instance="${name}"]`);
    await row.locator('.state-running').waitFor();
    expect(await page.evaluate(() => (window as unknown as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
    // It came as pushes of the deploy job over graphql-transport-ws, not by reading the page again.
    const jobPushes = pushes.map((text) => JSON.parse(text) as { type: string; payload?: { data?: { asyncJobUpdated?: { cmd: string; status: string } } } });
    const deployPushes = jobPushes.filter((m) => m.type === 'next' && m.payload?.data?.asyncJobUpdated?.cmd === 'deployVirtualMachine');
    expect(deployPushes.map((m) => m.payload!.data!.asyncJobUpdated!.status)).toContain('SUCCEEDED');
    await expect.poll(() => row.locator('td[data-label="IP addresses"]').textContent()).toMatch(/^10\.1\.0\.\d+$/);
    instanceId = (await row.getByRole('link', { name }).getAttribute('href'))!.split('/').pop()!;
    await shot(page, 'instances.png');
  });

  it("shows the API's validation error beside the field it names", async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Deploy an instance' }).click();
    await page.getByRole('radio', { name: /demo-zone/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /demo-linux/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Small Instance/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    // The same name again: the API refuses it (a name is unique in its account), naming `name`.
    await page.getByLabel('Name (host name, optional)').fill(name);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const error = page.locator('#name-error');
    await error.waitFor();
    expect(await error.textContent()).toContain(name);
    expect(await page.getByLabel('Name (host name, optional)').inputValue()).toBe(name);
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
  });

  it('stops the instance from its row, and the state follows the job', async () => {
    const { page } = admin;
    const row = page.locator(`tr[data-instance="${name}"]`);
    await row.getByRole('button', { name: `Stop ${name}` }).click();
    await row.locator('.state-stopped').waitFor();
  });

  it('shows the timeline with VM.CREATE, VM.START and VM.STOP and who did them, and the slider shows it Running before the stop', async () => {
    const { page } = admin;
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { name: 'Instance', exact: true }).waitFor();
    await shot(page, 'instance.png');
    await page.getByRole('link', { name: 'History' }).click();
    const timeline = page.getByRole('list', { name: 'Action events, oldest first' });
    for (const type of ['VM.CREATE', 'VM.START', 'VM.STOP']) {
      const item = timeline.locator(`li[data-event-type="${type}"]`).first();
      await item.waitFor();
      expect(await item.locator('.actor').textContent(), type).toBe('admin (ROOT_ADMIN)');
    }
    // Times read in the browser's zone (Europe/Paris here), with UTC on hover.
    const created = timeline.locator('li[data-event-type="VM.CREATE"] time').first();
    const createdAt = new Date((await created.getAttribute('datetime'))!);
    const parisClock = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(createdAt);
    expect(await created.textContent()).toContain(parisClock);
    expect(await created.getAttribute('title')).toBe(`${createdAt.toISOString().slice(0, 19).replace('T', ' ')} UTC`);
    // Between the start's completion and the stop's request the instance was Running; now it is Stopped.
    const asOf = page.getByTestId('as-of');
    await expect.poll(() => asOf.locator('.state').textContent()).toBe('Stopped');
    const started = await timeline.locator('li[data-event-type="VM.START"]').last().locator('time').getAttribute('datetime');
    const stopping = await timeline.locator('li[data-event-type="VM.STOP"]').first().locator('time').getAttribute('datetime');
    const between = Math.round((Date.parse(started!) + Date.parse(stopping!)) / 2);
    expect(between).toBeGreaterThan(Date.parse(started!));
    await page.getByLabel('Moment').fill(String(between));
    await expect.poll(() => asOf.locator('.state').textContent()).toBe('Running');
    expect(await asOf.textContent()).toMatch(/sim-host-\d/);
    await shot(page, 'history.png');
  });

  it('shows a schedule in words with its next fires in its own zone', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Schedules' }).click();
    await page.getByText('No schedule runs actions on this instance.').waitFor();
    await page.getByLabel('Cron (minute hour day month weekday)').fill('30 8 * * 1-5');
    await page.getByLabel('Time zone (IANA)').fill('Asia/Tokyo');
    await page.getByText('At 08:30, Monday to Friday').waitFor();
    await page.getByRole('button', { name: 'Add the schedule' }).click();
    const table = page.getByRole('region', { name: 'Schedules' });
    await table.getByText('At 08:30, Monday to Friday').waitFor();
    const fires = await table.locator('time[datetime]').evaluateAll((times) => times.map((t) => t.textContent ?? ''));
    expect(fires.filter((text) => text.endsWith('08:30 Asia/Tokyo'))).toHaveLength(3);
    // A cron the API refuses: its message beside the field.
    await page.getByLabel('Cron (minute hour day month weekday)').fill('61 * * * *');
    await page.getByRole('button', { name: 'Add the schedule' }).click();
    await expect.poll(() => page.locator('#schedule-cron-error').textContent()).toMatch(/cron/i);
    await shot(page, 'schedules.png');
  });

  it('lists the jobs with their steps, and usage records as a table, a chart and a CSV file', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: /^Jobs/ }).click();
    const jobs = page.getByRole('region', { name: 'Jobs' });
    await jobs.getByText('Deploy', { exact: true }).waitFor();
    await jobs.getByText('Stop', { exact: true }).waitFor();
    await shot(page, 'jobs.png');

    await page.getByRole('link', { name: 'Usage' }).click();
    const table = page.getByRole('region', { name: 'Usage per account and day' });
    await table.getByText('Running', { exact: true }).waitFor();
    expect(await page.getByRole('img', { name: /Usage per day/ }).count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = await (await download.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
    const [header, ...lines] = csv.trim().split('\r\n');
    expect(header).toBe('id,type,usageType,account,accountId,zoneId,resourceId,resourceName,offeringId,templateId,size,startDate,endDate,hours');
    expect(lines.some((line) => line.includes(',RUNNING_VM,1,admin,') && line.includes(`,${name},`))).toBe(true);
    await shot(page, 'usage.png');
  });

  it('shows the hosts with capacity bars, and the other admin screens', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Administration' }).click();
    const host = page.locator('[data-host="sim-host-1"]');
    await host.waitFor();
    expect(await host.getByRole('meter', { name: 'CPU allocated' }).getAttribute('aria-valuemax')).toBe('32000');
    await shot(page, 'admin-hosts.png');
    await page.getByRole('link', { name: 'Storage pools' }).click();
    await page.getByText('demo-nfs').waitFor();
    await page.getByRole('link', { name: 'Offerings' }).click();
    await page.getByText('Medium Instance').waitFor();
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('cell', { name: 'admin', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Configuration' }).click();
    await page.getByText('instance.lease.enabled').waitFor();
    await shot(page, 'admin-configuration.png');
  });

  it('turns leases on in the configuration, then extends and cancels a lease, and guards an instance with delete protection', async () => {
    const { page } = admin;
    await page.getByLabel('Filter').fill('instance.lease.enabled');
    await page.getByLabel('Value of instance.lease.enabled').fill('true');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved.').waitFor();

    const { deployVirtualMachine } = await h.admin.request<{ deployVirtualMachine: Job }>(
      `mutation($z: ID!, $o: ID!, $t: ID!) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $o, templateId: $t, name: "leased", leaseDuration: 5, leaseExpiryAction: STOP) { id } }`,
      { z: h.demo.zoneId, o: h.demo.serviceOfferingIds.small, t: h.demo.templateId },
    );
    const leased = (await h.waitForJob(h.admin, deployVirtualMachine.id)).result!.id;
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await expect.poll(() => page.locator('tr[data-instance="leased"] td[data-label="Lease"]').textContent()).toBe('4 d 23 h left');
    await page.getByRole('link', { name: 'leased' }).click();
    const lease = page.locator('.card', { has: page.getByRole('heading', { name: 'Lease' }) });
    await lease.getByText('4 d 23 h left', { exact: false }).waitFor();
    await lease.getByLabel('New lease, days from now').fill('10');
    await lease.getByRole('button', { name: 'Extend the lease' }).click();
    await lease.getByText('9 d 23 h left', { exact: false }).waitFor();
    await lease.getByRole('button', { name: 'Cancel the lease' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel the lease' }).click();
    await lease.getByText('No lease is pending on this instance.').waitFor();
    // The API's refusal in its own words: a cancelled lease cannot be set again.
    const { virtualMachine } = await h.admin.request<{ virtualMachine: { leaseExpiryDate: string | null } }>(`query($id: ID!) { virtualMachine(id: $id) { leaseExpiryDate } }`, { id: leased });
    expect(virtualMachine.leaseExpiryDate).toBeNull();

    await page.getByRole('button', { name: 'Turn delete protection on' }).click();
    await page.getByRole('button', { name: 'Turn delete protection off' }).waitFor();
    expect(await page.getByRole('button', { name: 'Destroy', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Turn delete protection off' }).click();
    await page.getByRole('button', { name: 'Turn delete protection on' }).waitFor();
    expect(await page.getByRole('button', { name: 'Destroy', exact: true }).isDisabled()).toBe(false);

    // Destroy (asked first, in a dialog), then recover.
    await page.getByRole('button', { name: 'Destroy', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Destroy leased?' });
    await dialog.getByText('A destroyed instance can be recovered until it is expunged.').waitFor();
    await dialog.getByRole('button', { name: 'Destroy' }).click();
    await page.locator('h1 .state-destroyed').waitFor();
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await page.locator('h1 .state-stopped').waitFor();
  });

  it("shows a user only its own instances, no placement and no admin screens", async () => {
    const alice = await h.createUser(`alice-${name}`);
    const bob = await h.createUser(`bob-${name}`);
    const deploy = async (client: typeof alice.client, vmName: string) => {
      const { deployVirtualMachine } = await client.request<{ deployVirtualMachine: Job }>(
        `mutation($z: ID!, $o: ID!, $t: ID!, $n: String) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $o, templateId: $t, name: $n) { id } }`,
        { z: h.demo.zoneId, o: h.demo.serviceOfferingIds.small, t: h.demo.templateId, n: vmName },
      );
      return (await h.waitForJob(client, deployVirtualMachine.id)).result!.id;
    };
    await deploy(alice.client, 'alice-vm');
    const bobsVm = await deploy(bob.client, 'bob-vm');

    const { context, page } = await signedIn(alice.key);
    await expect.poll(() => page.locator('.role').textContent()).toBe(`alice-${name} · user`);
    await page.locator('tr[data-instance="alice-vm"] .state-running').waitFor();
    expect(await page.locator('tr[data-instance]').count()).toBe(1);
    expect(await page.locator('tr[data-instance="bob-vm"]').count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Host' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Administration' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Migrate alice-vm' }).count()).toBe(0);

    await page.goto(`${h.origin}/admin/hosts`);
    await page.getByText('Nothing here.').waitFor();
    await page.goto(`${h.origin}/instances/${bobsVm}`);
    await page.getByText(`No instance with id ${bobsVm} is visible to you.`).waitFor();
    // Another account's instance by keyword: still nothing.
    await page.goto(`${h.origin}/instances`);
    await page.getByLabel('Keyword').fill('bob');
    await page.getByText('No instance matches these filters.').waitFor();
    await page.getByLabel('Keyword').fill('');
    await page.getByRole('link', { name: 'alice-vm' }).click();
    await page.getByRole('heading', { name: 'Instance', exact: true }).waitFor();
    expect(await page.getByText('Hypervisor name').count()).toBe(0);
    await page.getByRole('link', { name: 'History' }).click();
    await page.locator('li[data-event-type="VM.START"]').first().waitFor();
    expect(await page.getByRole('list', { name: 'Action events, oldest first' }).textContent()).not.toMatch(/sim-host/);
    await context.close();
  });

  /** The job pushes of one command the pages received (asyncJobUpdated over graphql-transport-ws). */
  function pushedStatuses(cmd: string): string[] {
    return pushes
      .map((text) => JSON.parse(text) as { type: string; payload?: { data?: { asyncJobUpdated?: { cmd: string; status: string } } } })
      .filter((m) => m.type === 'next' && m.payload?.data?.asyncJobUpdated?.cmd === cmd)
      .map((m) => m.payload!.data!.asyncJobUpdated!.status);
  }

  async function deployRunning(vmName: string): Promise<{ id: string; hostId: string }> {
    const { deployVirtualMachine } = await h.admin.request<{ deployVirtualMachine: Job }>(
      `mutation($z: ID!, $o: ID!, $t: ID!, $n: String) { deployVirtualMachine(zoneId: $z, serviceOfferingId: $o, templateId: $t, name: $n) { id } }`,
      { z: h.demo.zoneId, o: h.demo.serviceOfferingIds.small, t: h.demo.templateId, n: vmName },
    );
    const done = await h.waitForJob(h.admin, deployVirtualMachine.id);
    return { id: done.result!.id, hostId: done.result!.hostId! };
  }

  it("takes a memory snapshot of a running instance, shows it Ready and current, reverts to it and deletes it, each job followed live; a refusal reads in the API's words", async () => {
    const vm = await deployRunning('snap-vm');
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('link', { name: 'snap-vm' }).click();
    await page.getByRole('link', { name: 'Snapshots' }).click();
    await page.getByText('This instance has no VM snapshot.').waitFor();

    // Its host cannot revert a disk-only snapshot of a running instance: the API refuses it up front,
    // and the console shows why beside the memory choice.
    await h.reportHostCapabilities(vm.hostId, ['snapshot.memory', 'snapshot.disk.stopped']);
    try {
      await page.getByLabel('Name (optional)').fill('disk-only');
      await page.getByRole('checkbox', { name: /Include memory/ }).uncheck();
      await page.getByRole('button', { name: 'Take the snapshot' }).click();
      await expect.poll(() => page.locator('#snapshot-memory-error').textContent()).toMatch(/use snapshotMemory=true .* or stop the instance first/);
    } finally {
      await h.reportHostCapabilities(vm.hostId, ['snapshot.memory', 'snapshot.disk.stopped', 'snapshot.disk.running']);
    }
    expect(await page.getByText('This instance has no VM snapshot.').count()).toBe(1);

    await page.getByRole('checkbox', { name: /Include memory/ }).check();
    await page.getByLabel('Name (optional)').fill('before-upgrade');
    await page.getByLabel('Description (optional)').fill('known good');
    await page.getByRole('button', { name: 'Take the snapshot' }).click();
    const first = page.locator('tr[data-snapshot="before-upgrade"]');
    await first.locator('.state-ready').waitFor();
    expect(await first.locator('td[data-label="Current"]').textContent()).toBe('current');
    expect(await first.textContent()).toContain('Disk and memory');
    expect(await first.textContent()).toContain('known good');
    await page.getByLabel('Name (optional)').fill('after-upgrade');
    await page.getByRole('button', { name: 'Take the snapshot' }).click();
    const second = page.locator('tr[data-snapshot="after-upgrade"]');
    await second.locator('.state-ready').waitFor();
    await expect.poll(() => second.locator('td[data-label="Current"]').textContent()).toBe('current');
    expect(await first.locator('td[data-label="Current"]').textContent()).toBe('—');
    expect(await second.textContent()).toContain('before-upgrade'); // its parent
    expect(pushedStatuses('createVMSnapshot')).toContain('SUCCEEDED');

    await first.getByRole('button', { name: 'Revert to before-upgrade' }).click();
    const revert = page.getByRole('dialog', { name: 'Revert snap-vm to before-upgrade?' });
    await revert.getByRole('button', { name: 'Revert' }).click();
    await expect.poll(() => first.locator('td[data-label="Current"]').textContent()).toBe('current');
    expect(await second.locator('td[data-label="Current"]').textContent()).toBe('—');
    expect(pushedStatuses('revertToVMSnapshot')).toContain('SUCCEEDED');
    await page.locator('h1 .state-running').waitFor();
    await shot(page, 'snapshots.png');

    await second.getByRole('button', { name: 'Delete after-upgrade' }).click();
    await page.getByRole('dialog', { name: 'Delete the snapshot after-upgrade?' }).getByRole('button', { name: 'Delete' }).click();
    await second.waitFor({ state: 'detached' });
    await first.getByRole('button', { name: 'Delete before-upgrade' }).click();
    await page.getByRole('dialog', { name: 'Delete the snapshot before-upgrade?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('This instance has no VM snapshot.').waitFor();
    expect(pushedStatuses('deleteVMSnapshot').filter((s) => s === 'SUCCEEDED')).toHaveLength(2);
    const { vmSnapshots } = await h.admin.request<{ vmSnapshots: { totalCount: number } }>(`query($id: ID!) { vmSnapshots(virtualMachineId: $id) { totalCount } }`, { id: vm.id });
    expect(vmSnapshots.totalCount).toBe(0);
  });

  it('creates an anti-affinity group, deploys two instances into it through the wizard, and shows them on different hosts', async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Affinity groups' }).click();
    await page.getByText('No affinity group yet.').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('apart');
    await page.getByLabel('Type').selectOption('host anti-affinity');
    await page.getByLabel('Description (optional)').fill('web servers, one per host');
    await page.getByRole('button', { name: 'Create the group' }).click();
    const group = page.locator('tr[data-group="apart"]');
    await group.getByText('none').waitFor();
    // The same name again (ignoring case): the API's refusal beside the name.
    await page.getByLabel('Name', { exact: true }).fill('APART');
    await page.getByRole('button', { name: 'Create the group' }).click();
    await expect.poll(() => page.locator('#group-name-error').textContent()).toContain('already exists');

    for (const vmName of ['apart-1', 'apart-2']) {
      await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Instances' }).click();
      await page.getByRole('link', { name: 'Deploy an instance' }).click();
      await page.getByRole('radio', { name: /demo-zone/ }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('radio', { name: /demo-linux/ }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('radio', { name: /Small Instance/ }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Name (host name, optional)').fill(vmName);
      await page.getByRole('checkbox', { name: /^apart/ }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      expect(await page.locator('.facts').textContent()).toContain('Affinity groupsapart');
      await page.getByRole('button', { name: 'Deploy', exact: true }).click();
      await page.locator(`tr[data-instance="${vmName}"] .state-running`).waitFor();
    }

    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Affinity groups' }).click();
    const hostOf = (vmName: string) => group.locator(`li[data-member="${vmName}"] .member-host`).textContent();
    await expect.poll(() => hostOf('apart-1')).toMatch(/on sim-host-\d/);
    await expect.poll(() => hostOf('apart-2')).toMatch(/on sim-host-\d/);
    expect(await hostOf('apart-1')).not.toBe(await hostOf('apart-2'));
    await shot(page, 'affinity-groups.png');

    // An instance's groups change only while it is Stopped: the API's refusal first, then the change.
    await group.getByRole('link', { name: 'apart-1' }).click();
    // The instance's own tab, once its page is there (the top menu has a link of that name too).
    await page.getByRole('navigation', { name: 'Instance sections' }).getByRole('link', { name: 'Affinity groups' }).click();
    const itsGroups = page.getByRole('list', { name: 'Its affinity groups' });
    await itsGroups.getByText('apart').waitFor();
    await page.getByRole('checkbox', { name: /^apart/ }).uncheck();
    await page.getByRole('button', { name: 'Save the groups' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/Unable update affinity groups of the virtual machine/);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.locator('h1 .state-stopped').waitFor();
    await page.getByRole('button', { name: 'Save the groups' }).click();
    await page.getByText('This instance is in no affinity group.').waitFor();
    await shot(page, 'instance-affinity.png');

    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Affinity groups' }).click();
    await group.locator('li[data-member="apart-2"]').waitFor();
    expect(await group.locator('li[data-member="apart-1"]').count()).toBe(0);
    await group.getByRole('button', { name: 'Delete apart' }).click();
    await page.getByRole('dialog', { name: 'Delete the affinity group apart?' }).getByRole('button', { name: 'Delete' }).click();
    await group.waitFor({ state: 'detached' });
    await page.getByText('No affinity group yet.').waitFor();
  });

  it("shows a user only its own account's affinity groups, on their screen and in the wizard", async () => {
    const carol = await h.createUser(`carol-${name}`);
    const dave = await h.createUser(`dave-${name}`);
    const create = (client: typeof carol.client, groupName: string) =>
      client.request(`mutation($n: String!) { createAffinityGroup(name: $n, type: "host affinity") { id } }`, { n: groupName });
    await create(carol.client, 'carol-together');
    await create(dave.client, 'dave-together');

    const { context, page } = await signedIn(carol.key);
    await page.getByRole('link', { name: 'Affinity groups' }).click();
    await page.locator('tr[data-group="carol-together"]').waitFor();
    expect(await page.locator('tr[data-group]').count()).toBe(1);
    expect(await page.getByText('dave-together').count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Account' }).count()).toBe(0);
    expect(await page.getByLabel('For account').count()).toBe(0);

    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('link', { name: 'Deploy an instance' }).click();
    await page.getByRole('radio', { name: /demo-zone/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /demo-linux/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Small Instance/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: /carol-together/ }).waitFor();
    expect(await page.getByText('dave-together').count()).toBe(0);
    await context.close();
  });

  it("shows each host's capabilities and each storage pool's allocation against its capacity", async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'Administration' }).click();
    const capabilities = page.getByRole('list', { name: 'Capabilities of sim-host-1' });
    await capabilities.waitFor();
    expect(await capabilities.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-capability')))).toEqual([
      'snapshot.memory',
      'snapshot.disk.stopped',
      'snapshot.disk.running',
    ]);
    expect(await capabilities.textContent()).toContain('memory snapshots');
    await page.getByRole('link', { name: 'Storage pools' }).click();
    const meter = page.locator('[data-pool="demo-nfs"]').getByRole('meter', { name: 'Storage allocated' });
    await meter.waitFor();
    // The root volumes stored there so far (every instance of this file is on it).
    const { storagePools } = await h.admin.request<{ storagePools: { nodes: { name: string; allocatedBytes: number; capacityBytes: number }[] } }>(
      `{ storagePools { nodes { name allocatedBytes capacityBytes } } }`,
    );
    const pool = storagePools.nodes.find((p) => p.name === 'demo-nfs')!;
    expect(pool.allocatedBytes).toBeGreaterThan(0);
    expect(Number(await meter.getAttribute('aria-valuenow'))).toBe(pool.allocatedBytes);
    expect(Number(await meter.getAttribute('aria-valuemax'))).toBe(pool.capacityBytes);
    await shot(page, 'admin-storage.png');
  });

  /** The Import screen of the demo zone and cluster, on the tab named. */
  async function openImport(page: Page, tab: 'Unmanaged instances' | 'External KVM host' | 'VMware host'): Promise<void> {
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Import' }).click();
    await page.getByRole('heading', { name: 'Import', exact: true }).waitFor();
    await page.getByLabel('Zone').selectOption({ label: 'demo-zone' });
    await page.getByRole('navigation', { name: 'Import sources' }).getByRole('link', { name: tab }).click();
    await page.getByLabel(/cluster/i).selectOption({ label: 'demo-cluster (KVM)' });
  }

  it("lists the demo host's unmanaged domain legacy-app on the Import screen, with its size, disks and NICs", async () => {
    // The simulator's hand-made domain on the demo's first host (npm start puts it there too).
    h.simulator.host(h.demo.hostIds[0]!)!.addUnmanagedDomain(DEMO_UNMANAGED_DOMAIN);
    const { page } = admin;
    await openImport(page, 'Unmanaged instances');
    const row = page.locator('tr[data-guest="legacy-app"]');
    await row.waitFor();
    expect(await row.locator('td[data-label="Host"]').textContent()).toBe('sim-host-1');
    expect(await row.locator('td[data-label="Power"]').textContent()).toBe('Running');
    expect(await row.locator('td[data-label="CPU"]').textContent()).toBe('1 × 500 MHz');
    expect(await row.locator('td[data-label="Memory"]').textContent()).toBe('512 MiB');
    expect(await row.locator('td[data-label="Disks"] li').allTextContents()).toEqual(['0: 2 GiB virtio', '1: 5 GiB virtio']);
    expect(await row.locator('td[data-label="NICs"]').textContent()).toContain('52:54:00:de:40:01 VLAN 100');
    await shot(page, 'import.png');
  });

  it('shows, in the import wizard\'s preview, the problem of a wrong NIC mapping beside that NIC, and imports nothing', async () => {
    const { page } = admin;
    const head = await h.logHead();
    await page.getByRole('button', { name: 'Import legacy-app' }).click();
    await page.getByRole('heading', { name: /Import legacy-app/ }).waitFor();
    // Chosen for the operator: the offering of the running guest's very size, the zone's one template, a disk offering that holds disk 1.
    expect(await page.getByLabel('Service offering').locator('option:checked').textContent()).toMatch(/^Small Instance/);
    expect(await page.getByLabel('Template (the record\'s OS)').locator('option:checked').textContent()).toBe('demo-linux');
    // Chosen once the disk offerings have loaded (they are read when the wizard opens).
    await expect.poll(() => page.getByLabel('Disk offering of disk 1').locator('option:checked').textContent()).toBe('Small (5 GiB)');
    // The NIC on a network with addresses, and no address for it: the preview names the NIC's address.
    await page.getByLabel('Network of NIC 0').selectOption({ label: 'demo-shared (Shared, VLAN 200, 10.1.0.0/24)' });
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const nicProblem = page.locator('#import-nic-0-ip-error');
    await expect.poll(() => nicProblem.textContent()).toMatch(/^NIC\(ID: 0\) needs a valid IP address for it to be associated with network\(ID: .+\)\. nicipaddresslist parameter of API can be used for this$/);
    expect(await page.getByLabel('IP address of NIC 0').getAttribute('aria-describedby')).toBe('import-nic-0-ip-error');
    const preview = page.getByRole('region', { name: /^Preview/ });
    expect(await preview.getByRole('heading', { name: 'Preview 1 problem' }).count()).toBe(1);
    expect(await preview.locator('.problems li').allTextContents()).toEqual([expect.stringMatching(/^NIC\(ID: 0\) needs a valid IP address/)]);
    // The plan as far as the rules got: the domain's disks, in place on the demo pool, placed as mapped
    // (the NIC's problem does not hide which is root, nor their pool and offering).
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Source"]').textContent()).toBe('/var/lib/libvirt/images/legacy-app-1.qcow2 (qcow2)');
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Size"]').textContent()).toBe('5 GiB');
    expect(await preview.locator('tr[data-plan-disk="0"] td[data-label="Type"]').textContent()).toBe('ROOT');
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Type"]').textContent()).toBe('DATADISK');
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Pool"]').textContent()).toBe('demo-nfs');
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Disk offering"]').textContent()).toBe('Small');
    expect(await preview.getByRole('button', { name: 'Import legacy-app' }).isDisabled()).toBe(true);
    await shot(page, 'import-preview-problem.png');
    // Going to the field: the focus lands on the NIC's address.
    await preview.getByRole('button', { name: 'Go to the field' }).click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('import-nic-0-ip');
    expect(await h.logHead()).toBe(head);
  });

  it('imports legacy-app with a correct mapping, following its job live, and lists the new instance; Unmanage gives it back', async () => {
    const { page } = admin;
    await page.getByLabel('Network of NIC 0').selectOption({ label: 'demo-l2 (L2, VLAN 100, no addresses)' });
    // Changed since the preview: the import waits for a new one.
    await page.getByText('The settings changed since the preview: preview again before importing.').waitFor();
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const preview = page.getByRole('region', { name: /^Preview/ });
    await preview.getByRole('heading', { name: 'Preview no problem' }).waitFor();
    expect(await page.locator('#import-nic-0-ip-error').count()).toBe(0);
    expect(await preview.locator('tr[data-plan-nic="0"] td[data-label="Network"]').textContent()).toBe('demo-l2');
    expect(await preview.locator('tr[data-plan-nic="0"] td[data-label="MAC address"]').textContent()).toBe('52:54:00:de:40:01');
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Disk offering"]').textContent()).toBe('Small');
    expect(await preview.locator('tr[data-plan-disk="1"] td[data-label="Pool"]').textContent()).toBe('demo-nfs');
    await preview.getByRole('button', { name: 'Import legacy-app' }).click();
    await page.getByRole('link', { name: 'Open the new instance' }).click();
    await page.getByRole('heading', { name: /legacy-app/ }).waitFor();
    await page.locator('h1 .state-running').waitFor();
    // Followed over graphql-transport-ws, as every job the console starts.
    expect(pushedStatuses('importUnmanagedInstance')).toContain('SUCCEEDED');
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Instances' }).click();
    const row = page.locator('tr[data-instance="legacy-app"]');
    await row.locator('.state-running').waitFor();
    expect(await row.locator('td[data-label="Host"]').textContent()).toBe('sim-host-1');

    // The way back: Unmanage (asked first), its job followed, and the domain is offered again.
    await row.getByRole('link', { name: 'legacy-app' }).click();
    await page.getByRole('button', { name: 'Unmanage', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Unmanage legacy-app?' });
    await dialog.getByText(/keeps running/).waitFor();
    await dialog.getByRole('button', { name: 'Unmanage' }).click();
    await page.getByText('legacy-app was unmanaged: it has left vmledger').waitFor();
    expect(pushedStatuses('unmanageVirtualMachine')).toContain('SUCCEEDED');
    await page.getByRole('link', { name: 'Import', exact: true }).first().click();
    await page.getByLabel('Zone').selectOption({ label: 'demo-zone' });
    await page.getByLabel('Cluster').selectOption({ label: 'demo-cluster (KVM)' });
    await page.locator('tr[data-guest="legacy-app"]').waitFor();
  });

  it("lists an external KVM host's stopped VMs with a login kept out of URLs and storage, previews and imports one, following the copy", async () => {
    const password = 'pw-console-ext-5d1e-canary';
    h.simulator.addExternalHost('10.9.8.7', {
      username: 'ops',
      password,
      domains: [
        { name: 'old-web', running: false, cpuNumber: 1, memory: 512, disks: [{ capacity: 2 * 1024 ** 3, path: '/srv/vm/old-web.qcow2' }], nics: [{ mac: '52:54:00:9e:00:01', vlan: 100 }] },
        { name: 'still-running', running: true, cpuNumber: 1, memory: 512, disks: [{ capacity: 1024 ** 3, path: '/srv/vm/busy.qcow2' }], nics: [] },
      ],
    });
    const { page } = admin;
    await openImport(page, 'External KVM host');
    await page.getByLabel('Host (name or address, :port optional)').fill('10.9.8.7');
    await page.getByLabel('Username').fill('ops');
    // A wrong password first: the API's refusal, in its words.
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'List its VMs' }).click();
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/Failed to list VMs/);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'List its VMs' }).click();
    const row = page.locator('tr[data-guest="old-web"]');
    await row.waitFor();
    expect(await row.locator('td[data-label="Power"]').textContent()).toBe('Stopped');
    expect(await page.locator('tr[data-guest="still-running"]').count()).toBe(0);
    expect(page.url()).not.toContain(password);
    expect(await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }))).not.toContain(password);

    await row.getByRole('button', { name: 'Import old-web' }).click();
    await page.getByRole('heading', { name: /Import old-web/ }).waitFor();
    await page.getByLabel('Service offering').selectOption({ label: 'Medium Instance (2 × 1 GHz, 1 GiB)' });
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const preview = page.getByRole('region', { name: /^Preview/ });
    await preview.getByRole('heading', { name: 'Preview no problem' }).waitFor();
    expect(await preview.locator('tr[data-plan-disk="0"] td[data-label="Source"]').textContent()).toBe('/srv/vm/old-web.qcow2 (qcow2)');
    expect(await preview.locator('tr[data-plan-disk="0"] td[data-label="Bytes"]').textContent()).toBe('copied to the pool');
    await preview.getByRole('button', { name: 'Import old-web' }).click();
    await page.getByRole('link', { name: 'Open the new instance' }).waitFor();
    // The job's operation in words (importVm reads "Import VM").
    expect(await page.getByRole('heading', { name: 'Import VM', exact: true }).count()).toBe(1);
    expect(pushedStatuses('importVm')).toContain('SUCCEEDED');
    expect(page.url()).not.toContain(password);
    await page.getByRole('link', { name: 'Open the new instance' }).click();
    await page.locator('h1 .state-stopped').waitFor();
    expect(await page.getByRole('heading', { name: /old-web/ }).count()).toBe(1);
  });

  it("converts a powered-off VMware guest (a running one is refused in words) after its preview, following the conversion's steps live, and lists it among the zone's conversions", async () => {
    const password = 'pw-console-vmw-77aa-canary';
    // sim-host-2 has virt-v2v (its agent reports instance.conversion) and takes a moment per conversion.
    const converter = h.demo.hostIds[1]!;
    h.simulator.host(converter)!.setCapabilities([...DEFAULT_SIMULATOR_CAPABILITIES, 'instance.conversion']);
    await h.reportHostCapabilities(converter, [...DEFAULT_SIMULATOR_CAPABILITIES, 'instance.conversion']);
    h.simulator.host(converter)!.setDelays({ conversionDelayMs: 1500 });
    const guest = { running: false, cpuSpeed: 1000, guestOs: 'debian10-64', cpuNumber: 1, memory: 512, disks: [{ capacity: 1024 ** 3 }] };
    h.simulator.addVmwareHost('10.9.7.1', {
      username: 'root',
      password,
      guests: [
        { ...guest, name: 'esx-web', nics: [{ mac: '00:50:56:c0:00:01', model: 'vmxnet3' }] },
        { ...guest, name: 'esx-busy', running: true, nics: [{ mac: '00:50:56:c0:00:02', model: 'vmxnet3' }] },
      ],
    });
    const { page } = admin;
    await openImport(page, 'VMware host');
    await page.getByText('No VMware guest has been converted in this zone yet.').waitFor();
    await page.getByLabel('Host (name or address, :port optional)').fill('10.9.7.1');
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'List its VMs' }).click();
    await page.locator('tr[data-guest="esx-web"]').waitFor();
    expect(await page.locator('tr[data-guest="esx-busy"] td[data-label="Import"]').textContent()).toBe('Shut it down first: a running guest cannot be converted without vCenter.');
    await page.getByRole('button', { name: 'Import esx-web' }).click();
    await page.getByLabel('Service offering').selectOption({ label: 'Medium Instance (2 × 1 GHz, 1 GiB)' });
    expect(await page.getByLabel('Conversion host').locator('option').allTextContents()).toContain('sim-host-2 (virt-v2v)');
    // A VMware NIC has no VLAN to find its network by: without one, the preview says so beside the NICs.
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    const preview = page.getByRole('region', { name: /^Preview/ });
    await preview.getByRole('heading', { name: /^Preview \d+ problems?$/ }).waitFor();
    expect(await page.locator('#import-nics-error').textContent()).toBe('Different number of nics found on instance esx-web: 1 vs 0 nics provided');
    expect(await preview.locator('.problems li').count()).toBe(1);
    await page.getByLabel('Network of NIC 0').selectOption({ label: 'demo-l2 (L2, VLAN 100, no addresses)' });
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await preview.getByRole('heading', { name: 'Preview no problem' }).waitFor();
    // The plan: converted on sim-host-2 (the one with virt-v2v), the VMDK into the demo pool, the NIC with its MAC.
    expect(await preview.locator('.plan .facts').textContent()).toContain('Hostsim-host-2');
    expect(await preview.locator('tr[data-plan-disk="0"] td[data-label="Source"]').textContent()).toBe('/vmfs/volumes/datastore1/esx-web/esx-web.vmdk (vmdk)');
    expect(await preview.locator('tr[data-plan-disk="0"] td[data-label="Bytes"]').textContent()).toBe('converted into the pool');
    expect(await preview.locator('tr[data-plan-nic="0"] td[data-label="MAC address"]').textContent()).toBe('00:50:56:c0:00:01');
    await preview.getByRole('button', { name: 'Import esx-web' }).click();
    await page.getByRole('link', { name: 'Open the new instance' }).waitFor();
    const steps = pushes
      .map((text) => JSON.parse(text) as { type: string; payload?: { data?: { asyncJobUpdated?: { cmd: string; step: string | null } } } })
      .filter((m) => m.type === 'next' && m.payload?.data?.asyncJobUpdated?.cmd === 'importVm')
      .map((m) => m.payload!.data!.asyncJobUpdated!.step);
    expect(steps).toContain('CONVERTING');
    expect(page.url()).not.toContain(password);
    await page.getByRole('button', { name: '← Back to the list' }).click();
    const conversion = page.locator('tr[data-conversion="esx-web"]');
    await expect.poll(() => conversion.locator('td[data-label="State"]').textContent()).toBe('Completed');
    expect(await conversion.locator('td[data-label="Guest"]').textContent()).toBe('esx-web on 10.9.7.1');
    await shot(page, 'import-vmware.png');
    await conversion.getByRole('link').click();
    await page.locator('h1 .state-stopped').waitFor();
  });

  it('does not show a user, nor a domain admin (the import operations are the root admin\'s), the Import screen', async () => {
    const erin = await h.createUser(`erin-${name}`);
    const frank = await h.createUser(`frank-${name}`, 'DOMAIN_ADMIN');
    for (const [key, role] of [[erin.key, 'user'], [frank.key, 'domain admin']] as const) {
      const { context, page } = await signedIn(key);
      await expect.poll(() => page.locator('.role').textContent()).toContain(role);
      const screens = page.getByRole('navigation', { name: 'Screens' });
      await screens.getByRole('link', { name: 'Instances' }).waitFor();
      expect(await screens.getByRole('link', { name: 'Import' }).count(), role).toBe(0);
      await page.goto(`${h.origin}/import/unmanaged`);
      await page.getByText('Nothing here.').waitFor();
      expect(await page.getByLabel('Cluster').count(), role).toBe(0);
      await context.close();
    }
  });

  it("shows a running job's step and progress as they are pushed, in its row and on the jobs screen", async () => {
    // A zone of its own whose one host takes a while to start and stop an instance.
    // Well within the agent timeout set above, and well beyond what a page needs to show a step.
    await addSmallZone(h, 'slow', { startDelayMs: 3000, stopDelayMs: 3000 });
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('link', { name: 'Deploy an instance' }).click();
    await page.getByRole('radio', { name: /^slow/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /slow-linux/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Small Instance/ }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Name (host name, optional)').fill('slow-vm');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const row = page.locator('tr[data-instance="slow-vm"]');
    // While the host starts it: the deploy's STARTING step at 40 %, then Running, with no job left on the row.
    await row.getByText('Deploy: STARTING').waitFor();
    expect(await row.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('40');
    await row.locator('.state-running').waitFor();
    expect(await row.getByRole('progressbar').count()).toBe(0);

    await row.getByRole('button', { name: 'Stop slow-vm' }).click();
    await page.getByRole('link', { name: /^Jobs/ }).click();
    const job = page.getByRole('region', { name: 'Jobs' }).locator('tr', { has: page.getByRole('link', { name: 'slow-vm' }) }).first();
    await job.getByText('Running', { exact: true }).waitFor();
    // The stop's step while it runs: STOPPING lasts the harness's graceful stop (0.5 s) only, then the
    // stop is forced (FORCING_STOP) for the rest of the host's 3 s, so either may be what the page shows.
    await job.getByText(/^(STOPPING|FORCING_STOP)$/).waitFor();
    await job.getByText('Succeeded').waitFor();
    expect(await job.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
  });

  it('shows a job that ended while the jobs screen was reading its list in its latest state, not as the list read it', async () => {
    const { page } = admin;
    await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: 'Instances' }).click();
    const row = page.locator('tr[data-instance="slow-vm"]');
    await row.locator('.state-stopped').waitFor();
    // The jobs screen's list is read at once but handed to the page only after the start has ended, so
    // the start's last push (SUCCEEDED) comes while the screen is still loading.
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let heldJobs: Job[] | undefined;
    await page.route('**/graphql', async (route) => {
      if (!(route.request().postData() ?? '').includes('asyncJobs(status: $status')) return route.fallback();
      const response = await route.fetch();
      heldJobs = ((await response.json()) as { data: { asyncJobs: { nodes: Job[] } } }).data.asyncJobs.nodes;
      await released;
      await route.fulfill({ response });
    });
    try {
      await row.getByRole('button', { name: 'Start slow-vm' }).click();
      const screens = page.getByRole('navigation', { name: 'Screens' });
      await screens.getByRole('link', { name: 'Jobs (1 running)' }).click();
      await page.getByText('Loading jobs…').waitFor();
      await expect.poll(() => heldJobs).toBeDefined();
      const start = heldJobs!.find((job) => job.cmd === 'startVirtualMachine' && job.status === 'PENDING');
      expect(start, 'the held list has the start running').toBeDefined();
      // The start's SUCCEEDED push has reached the page (no job is running any more), the list has not.
      await screens.getByRole('link', { name: 'Jobs', exact: true }).waitFor();
      expect(await page.getByText('Loading jobs…').count()).toBe(1);
      release();
      const shown = page.locator(`tr[data-job="${start!.id}"]`);
      await shown.waitFor();
      // Read once, as first shown: the push applied over the older list, not waited for.
      expect(await shown.locator('.status').textContent()).toBe('Succeeded');
    } finally {
      release();
      await page.unroute('**/graphql');
    }
  });

  it('takes a deploy to its review by keyboard alone', async () => {
    const { context, page } = await signedIn(ADMIN_KEY);
    // From the page's start, Tab reaches the skip link, then the screens and the deploy button.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to the content');
    await page.getByRole('link', { name: 'Deploy an instance' }).focus();
    await page.keyboard.press('Enter');
    const choose = async (radio: RegExp) => {
      await page.getByRole('radio', { name: radio }).focus();
      await page.keyboard.press('Space');
      await page.keyboard.press('Enter'); // submits the step: Next
    };
    await choose(/demo-zone/);
    await choose(/demo-linux/);
    await choose(/Medium Instance/);
    await page.getByRole('checkbox', { name: /demo-l2/ }).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Enter');
    await page.getByLabel('Name (host name, optional)').focus();
    await page.keyboard.type('typed-by-keys');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Review' }).waitFor();
    const review = await page.locator('.facts').textContent();
    expect(review).toContain('Medium Instance');
    expect(review).toContain('demo-l2');
    expect(review).toContain('typed-by-keys');
    // On to Deploy with Tab, and Enter deploys: the instance is listed, and reaches Running.
    for (let tabs = 0; tabs < 30 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Deploy'; tabs++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Deploy');
    await page.keyboard.press('Enter');
    await page.locator('tr[data-instance="typed-by-keys"] .state-running').waitFor();
    await context.close();
  });

  it('takes an import to its preview by keyboard alone, the focus landing on the preview', async () => {
    const { context, page } = await signedIn(ADMIN_KEY);
    await page.goto(`${h.origin}/import/unmanaged?zone=${h.demo.zoneId}&cluster=${h.demo.clusterId}`);
    await page.getByRole('button', { name: 'Import legacy-app' }).focus();
    await page.keyboard.press('Enter');
    await page.getByLabel('Host name (optional)').focus();
    await page.keyboard.type('legacy-by-keys');
    await page.keyboard.press('Enter'); // submits the settings: Preview
    const heading = page.getByRole('heading', { name: 'Preview no problem' });
    await heading.waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('import-preview-title');
    expect(await page.locator('.plan .facts').textContent()).toContain('legacy-by-keys');
    await context.close();
  });

  it("says in the API's words when the wizard cannot load the disk offerings", async () => {
    const { context, page } = await signedIn(ADMIN_KEY);
    await page.route('**/graphql', (route) =>
      (route.request().postData() ?? '').includes('diskOfferings(first')
        ? route.fulfill({ json: { errors: [{ message: 'The read model is being rebuilt', extensions: { code: 'INTERNAL_ERROR' } }] } })
        : route.fallback(),
    );
    await page.goto(`${h.origin}/import/unmanaged?zone=${h.demo.zoneId}&cluster=${h.demo.clusterId}`);
    await page.getByRole('button', { name: 'Import legacy-app' }).click();
    await page.getByText('Could not load the disk offerings and storage pools: The read model is being rebuilt').waitFor();
    await context.close();
  });

  for (const [screen, viewport] of [
    ['a 390 px wide phone screen', { width: 390, height: 844 }],
    ['a 1280 × 800 screen', { width: 1280, height: 800 }],
  ] as const) {
    it(`keeps every screen within ${screen}`, async () => {
      const { context, page } = await signedIn(ADMIN_KEY, viewport);
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      // A table's cells too: one scrolled sideways in its box hides what its right-hand columns say.
      const cellsBeyond = () =>
        page.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('main td, main th')]
            .filter((cell) => {
              const right = Math.min(window.innerWidth, cell.closest('.table-box')?.getBoundingClientRect().right ?? Infinity);
              return cell.getBoundingClientRect().width > 0 && cell.getBoundingClientRect().right > right + 0.5;
            })
            .map((cell) => `${cell.closest('[role="region"]')?.getAttribute('aria-label') ?? 'a table'}: ${cell.textContent?.slice(0, 40) ?? ''}`)
            .slice(0, 3),
        );
      // Every control has a name a screen reader says: a label, an aria-label, or its text.
      const unnamed = () =>
        page.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, [role="slider"]')]
            .filter((el) => {
              const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
              return !labelled && !(el.tagName === 'BUTTON' && el.textContent?.trim());
            })
            .map((el) => el.outerHTML.slice(0, 120)),
        );
      for (const path of [
        '/instances',
        `/instances/${instanceId}`,
        `/instances/${instanceId}/history`,
        `/instances/${instanceId}/nics`,
        `/instances/${instanceId}/volumes`,
        `/instances/${instanceId}/schedules`,
        `/instances/${instanceId}/snapshots`,
        `/instances/${instanceId}/affinity`,
        '/instances/new',
        '/affinity',
        '/jobs',
        '/usage',
        '/admin/infrastructure',
        '/admin/storage',
        '/admin/offerings',
        '/admin/accounts',
        '/admin/configuration',
        `/import/unmanaged?zone=${h.demo.zoneId}&cluster=${h.demo.clusterId}`,
        `/import/external?zone=${h.demo.zoneId}`,
        `/import/vmware?zone=${h.demo.zoneId}&cluster=${h.demo.clusterId}`,
      ]) {
        await page.goto(`${h.origin}${path}`);
        await page.locator('main h1').first().waitFor();
        // Each screen shows "Loading …" (role status) from its first render until its data is there.
        await page.getByRole('status').and(page.getByText(/^Loading /)).first().waitFor({ state: 'detached' });
        expect(await overflow(), path).toBeLessThanOrEqual(0);
        expect.soft(await cellsBeyond(), path).toEqual([]);
        expect(await unnamed(), path).toEqual([]);
      }
      // The import wizard and its preview's plan fit too.
      await page.goto(`${h.origin}/import/unmanaged?zone=${h.demo.zoneId}&cluster=${h.demo.clusterId}`);
      await page.getByRole('button', { name: 'Import legacy-app' }).click();
      await page.getByRole('button', { name: 'Preview', exact: true }).click();
      await page.getByRole('region', { name: /^Preview/ }).locator('tr[data-plan-disk="1"]').waitFor();
      expect(await overflow(), 'import wizard').toBeLessThanOrEqual(0);
      expect.soft(await cellsBeyond(), 'import wizard').toEqual([]);
      expect(await unnamed(), 'import wizard').toEqual([]);
      if (viewport.width < 640) {
        await page.goto(`${h.origin}/instances`);
        await page.locator(`tr[data-instance="${name}"]`).waitFor();
        await shot(page, 'instances-phone.png');
      }
      await context.close();
    });
  }

  it('logged no page error', () => {
    expect(pageErrors.filter((message) => !/status of 401/.test(message))).toEqual([]);
  });
});
