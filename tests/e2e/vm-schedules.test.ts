// Instance schedules end to end (behaviour §5.2, API.md "Leases and schedules"): CloudStack's
// refusals with their messages and codes, create/update/delete/list, another account's instance and
// schedules unknown to the caller, and a `*/1 * * * *` STOP schedule stopping a running instance by a
// job of the system — on a clock the test steps a minute forward instead of waiting one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphQLClient } from 'graphql-request';
import { SteppedClock } from '../support/stepped-clock.js';
import { actionEvents, deployed, gqlError, startHarness, type Harness, type Vm } from './harness.js';

const MINUTE_MS = 60_000;

interface Schedule {
  id: string;
  virtualMachineId: string;
  action: string;
  schedule: string;
  timeZone: string;
  description: string;
  startDate: string;
  endDate: string | null;
  enabled: boolean;
  created: string;
}

const FIELDS = 'id virtualMachineId action schedule timeZone description startDate endDate enabled created';

const CREATE = `mutation($vm: ID!, $action: VMScheduleAction!, $schedule: String!, $tz: String!, $description: String, $start: DateTime, $end: DateTime, $enabled: Boolean) {
  createVMSchedule(virtualMachineId: $vm, action: $action, schedule: $schedule, timeZone: $tz, description: $description, startDate: $start, endDate: $end, enabled: $enabled) { ${FIELDS} } }`;

describe('instance schedules', () => {
  const clock = new SteppedClock();
  let h: Harness;
  let user: { id: string; client: GraphQLClient };
  let other: { id: string; client: GraphQLClient };
  let vm: Vm;

  const create = async (c: GraphQLClient, variables: Record<string, unknown>): Promise<Schedule> =>
    (await c.request<{ createVMSchedule: Schedule }>(CREATE, { vm: vm.id, action: 'STOP', schedule: '0 22 * * *', tz: 'Europe/Paris', ...variables })).createVMSchedule;
  const list = async (c: GraphQLClient, variables: Record<string, unknown> = {}) =>
    (
      await c.request<{ vmSchedules: { nodes: Schedule[]; totalCount: number } }>(
        `query($vm: ID!, $id: ID, $action: VMScheduleAction, $enabled: Boolean) { vmSchedules(virtualMachineId: $vm, id: $id, action: $action, enabled: $enabled, first: 50) { nodes { ${FIELDS} } totalCount } }`,
        { vm: vm.id, ...variables },
      )
    ).vmSchedules;
  const remove = async (c: GraphQLClient, variables: Record<string, unknown>) =>
    (await c.request<{ deleteVMSchedule: number }>(`mutation($vm: ID!, $id: ID, $ids: [ID!]) { deleteVMSchedule(virtualMachineId: $vm, id: $id, ids: $ids) }`, { vm: vm.id, ...variables }))
      .deleteVMSchedule;
  const state = async (id: string) => (await user.client.request<{ virtualMachine: { state: string } }>(`query($id: ID!) { virtualMachine(id: $id) { state } }`, { id })).virtualMachine.state;
  const until = async (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    h = await startHarness({ clock });
    user = await h.createUser('schedule-user');
    other = await h.createUser('schedule-other');
    vm = await deployed(h, user.client, { name: 'scheduled' });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("refuses what CloudStack refuses, with its messages, and appends nothing", async () => {
    const head = await h.logHead();
    const now = clock.now().getTime();
    const refusals: Array<[Record<string, unknown>, string, string | RegExp, string]> = [
      [{ schedule: '61 * * * *' }, 'BAD_USER_INPUT', /^Invalid cron format: /, 'schedule'],
      [{ schedule: '0 0 * * * *' }, 'BAD_USER_INPUT', /^Invalid cron format: a schedule has five fields/, 'schedule'],
      [{ tz: 'Mars/Olympus_Mons' }, 'BAD_USER_INPUT', /^Invalid value for timezone: Mars\/Olympus_Mons/, 'timeZone'],
      [{ start: iso(now - 3_600_000) }, 'BAD_USER_INPUT', /^Invalid value for start date\. Start date \[.*\] can't be before current time \[.*\]\.$/, 'startDate'],
      [{ end: iso(now - 3_600_000) }, 'BAD_USER_INPUT', /^Invalid value for end date\. End date \[.*\] can't be before current time \[.*\]\.$/, 'endDate'],
      [
        { start: iso(now + 7_200_000), end: iso(now + 3_600_000) },
        'BAD_USER_INPUT',
        `Invalid value for end date. End date [${iso(now + 3_600_000)}] can't be before start date [${iso(now + 7_200_000)}].`,
        'endDate',
      ],
    ];
    for (const [variables, code, message, field] of refusals) {
      const error = await gqlError(create(user.client, variables));
      expect(error.extensions, JSON.stringify(variables)).toMatchObject({ code, errorCode: 431, field });
      if (typeof message === 'string') expect(error.message).toBe(message);
      else expect(error.message).toMatch(message);
    }
    const unknownAction = await gqlError(create(user.client, { action: 'HIBERNATE' }));
    expect(unknownAction.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const unknownVm = await gqlError(create(user.client, { vm: '00000000-0000-4000-8000-000000000000' }));
    expect(unknownVm.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'virtualMachineId' });
    const neither = await gqlError(remove(user.client, {}));
    expect(neither).toMatchObject({ message: 'Either id or ids parameter must be specified', extensions: { code: 'BAD_USER_INPUT' } });
    expect(await h.logHead()).toBe(head);
  });

  it('creates, lists, updates and deletes schedules, with VM.SCHEDULE.* action events', async () => {
    const start = iso(clock.now().getTime() + 3_600_000);
    const created = await create(user.client, { action: 'START', schedule: '0  8 * * 1-5', tz: 'Asia/Tokyo', start });
    expect(created).toMatchObject({
      virtualMachineId: vm.id,
      action: 'START',
      schedule: '0 8 * * 1-5',
      timeZone: 'Asia/Tokyo',
      description: 'START - 0 8 * * 1-5 (Asia/Tokyo)',
      startDate: start,
      endDate: null,
      enabled: true,
    });
    const second = await create(user.client, { description: 'nightly stop', enabled: false });
    expect(second).toMatchObject({ action: 'STOP', description: 'nightly stop', enabled: false });
    // Without a start date a schedule starts a minute from now (CloudStack's default).
    expect(Date.parse(second.startDate) - Date.parse(second.created)).toBe(MINUTE_MS);

    expect((await list(user.client)).nodes.map((s) => s.id)).toEqual([created.id, second.id]);
    expect((await list(user.client, { action: 'STOP' })).nodes.map((s) => s.id)).toEqual([second.id]);
    expect((await list(user.client, { enabled: true })).nodes.map((s) => s.id)).toEqual([created.id]);
    expect((await list(user.client, { id: second.id })).totalCount).toBe(1);

    const end = iso(clock.now().getTime() + 30 * 86_400_000);
    const { updateVMSchedule } = await user.client.request<{ updateVMSchedule: Schedule }>(
      `mutation($id: ID!, $end: DateTime) { updateVMSchedule(id: $id, schedule: "30 7 * * *", endDate: $end, enabled: true) { ${FIELDS} } }`,
      { id: second.id, end },
    );
    expect(updateVMSchedule).toMatchObject({ id: second.id, action: 'STOP', schedule: '30 7 * * *', endDate: end, enabled: true, description: 'nightly stop' });
    const cleared = await gqlError(user.client.request(`mutation($id: ID!) { updateVMSchedule(id: $id, endDate: null) { id } }`, { id: second.id }));
    expect(cleared.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'endDate' });

    const events = await actionEvents(user.client, created.id);
    expect(events.nodes.map((e) => e.type)).toEqual(['VM.SCHEDULE.CREATE', 'VM.SCHEDULE.START']);
    expect(events.nodes[1]!.description).toMatch(new RegExp(`^Scheduled action \\(START\\) \\[vm: scheduled, schedule: ${created.id}\\] at `));
    expect(events.nodes.every((e) => e.resourceType === 'VMSchedule')).toBe(true);

    expect(await remove(user.client, { ids: [created.id, second.id] })).toBe(2);
    expect((await list(user.client)).totalCount).toBe(0);
    expect((await actionEvents(user.client, second.id, 'VM.SCHEDULE.DELETE')).totalCount).toBe(1);
    const gone = await gqlError(user.client.request(`mutation($id: ID!) { updateVMSchedule(id: $id, enabled: false) { id } }`, { id: second.id }));
    expect(gone.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(gone.message).toMatch(/^VM schedule doesn't exist/);
  });

  it("does not show or touch another account's instance or schedules", async () => {
    const mine = await create(user.client, {});
    const head = await h.logHead();
    expect((await gqlError(create(other.client, {}))).extensions).toMatchObject({ code: 'NOT_FOUND', field: 'virtualMachineId' });
    expect((await gqlError(list(other.client))).extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await gqlError(other.client.request(`mutation($id: ID!) { updateVMSchedule(id: $id, enabled: false) { id } }`, { id: mine.id }))).extensions).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect((await gqlError(remove(other.client, { id: mine.id }))).extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await actionEvents(other.client, mine.id)).totalCount).toBe(0);
    expect(await h.logHead()).toBe(head);
    expect(await remove(user.client, { id: mine.id })).toBe(1);
  });

  it('stops a running instance at the next minute with a */1 STOP schedule, by a job of the system', async () => {
    expect(await state(vm.id)).toBe('Running');
    const schedule = await create(user.client, { schedule: '*/1 * * * *', tz: 'America/New_York' });
    // The first fire is a minute or two away (the default start is a minute from now): step the clock to it.
    const armed = (await actionEvents(user.client, schedule.id, 'VM.SCHEDULE.STOP')).nodes.find((e) => e.description.startsWith('Scheduled action (STOP)'));
    const firstFire = Date.parse(armed!.description.split(' at ').at(-1)!);
    expect(firstFire - Date.parse(schedule.created)).toBeGreaterThanOrEqual(MINUTE_MS);
    expect(firstFire - Date.parse(schedule.created)).toBeLessThanOrEqual(2 * MINUTE_MS);
    clock.step(firstFire - clock.now().getTime() + 100);
    await until('the scheduled stop', async () => (await state(vm.id)) === 'Stopped');

    const fired = await actionEvents(user.client, schedule.id, 'VM.SCHEDULE.STOP');
    expect(fired.nodes.filter((e) => e.description === 'Executing action (STOP) for VM: scheduled')).toHaveLength(1);
    expect(fired.nodes.filter((e) => e.description.startsWith('Missed'))).toEqual([]);
    expect(fired.nodes.find((e) => e.description.startsWith('Executing'))!.actor).toMatchObject({ kind: 'system', component: 'vm-scheduler' });
    const { asyncJobs } = await h.admin.request<{ asyncJobs: { nodes: Array<{ cmd: string; status: string }> } }>(
      `query($id: ID) { asyncJobs(instanceId: $id, cmd: "stopVirtualMachine", first: 10) { nodes { cmd status } } }`,
      { id: vm.id },
    );
    expect(asyncJobs.nodes).toEqual([{ cmd: 'stopVirtualMachine', status: 'SUCCEEDED' }]);

    // The next minute's STOP does not fit a Stopped instance: recorded as skipped, no job.
    clock.step(MINUTE_MS);
    await until('the skipped fire', async () =>
      (await actionEvents(user.client, schedule.id, 'VM.SCHEDULE.STOP')).nodes.some((e) => e.description.startsWith('Skipped scheduled action (STOP) for VM: scheduled')),
    );
    expect(await state(vm.id)).toBe('Stopped');
    expect(await remove(user.client, { id: schedule.id })).toBe(1);
  });
});
