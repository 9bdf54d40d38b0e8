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
    await job.getByText('STOPPING').waitFor();
    await job.getByText('Succeeded').waitFor();
    expect(await job.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
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
    await context.close();
  });

  it('keeps every screen within a 390 px wide phone screen', async () => {
    const { context, page } = await signedIn(ADMIN_KEY, { width: 390, height: 844 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    for (const path of ['/instances', `/instances/${instanceId}`, `/instances/${instanceId}/history`, '/instances/new', '/jobs', '/usage', '/admin/infrastructure']) {
      await page.goto(`${h.origin}${path}`);
      await page.locator('main h1').first().waitFor();
      // Each screen shows "Loading …" (role status) from its first render until its data is there.
      await page.getByRole('status').and(page.getByText(/^Loading /)).first().waitFor({ state: 'detached' });
      expect(await overflow(), path).toBeLessThanOrEqual(0);
      // Every control has a name a screen reader says: a label, an aria-label, or its text.
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, [role="slider"]')]
          .filter((el) => {
            const labelled = (el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
            return !labelled && !(el.tagName === 'BUTTON' && el.textContent?.trim());
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      expect(unnamed, path).toEqual([]);
    }
    await page.goto(`${h.origin}/instances`);
    await page.locator(`tr[data-instance="${name}"]`).waitFor();
    await shot(page, 'instances-phone.png');
    await context.close();
  });

  it('logged no page error', () => {
    expect(pageErrors.filter((message) => !/status of 401/.test(message))).toEqual([]);
  });
});
