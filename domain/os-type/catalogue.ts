// The guest OS types vmledger knows (CloudStack's guest_os table, listed by listOsTypes). A template
// names its OS by description when it is registered; an instance carries the OS type's id, copied
// from its template at deploy and changed by updateVirtualMachine(osTypeId). The ids are fixed here,
// never derived, so that correcting a description never changes what an instance recorded.

export interface OsType {
  readonly id: string;
  /** CloudStack's `description` (the OS display name), e.g. `Debian GNU/Linux 12 (64-bit)`. */
  readonly description: string;
  /** CloudStack's `oscategoryname`. */
  readonly osCategoryName: string;
}

const entry = (id: string, osCategoryName: string, description: string): OsType => ({ id, description, osCategoryName });

/** Sorted by description, the order osTypes lists them in. */
export const OS_TYPES: readonly OsType[] = [
  entry('74ef9326-d224-4f4e-9e49-283532f306b7', 'Other', 'Other (64-bit)'),
  entry('15a2f9c3-8d09-4aac-bb5d-8a2fe1700f93', 'Other', 'Other Linux (64-bit)'),
  entry('861f889c-cb3f-425a-ad27-27b6e31c6d48', 'CentOS', 'CentOS 7'),
  entry('c54c9640-aaf3-4246-be07-d49f2d425806', 'CentOS', 'CentOS 8'),
  entry('3b59f06e-54e1-41c8-856e-712482b82c7f', 'CentOS', 'CentOS Stream 9'),
  entry('6cc204be-81c8-447c-9b36-846ec51caba9', 'Debian', 'Debian GNU/Linux 11 (64-bit)'),
  entry('4037087a-e590-4823-8587-65ea56ea4792', 'Debian', 'Debian GNU/Linux 12 (64-bit)'),
  entry('41c06a8c-638b-4204-a26c-84b466cf3ee0', 'Unix', 'FreeBSD 14 (64-bit)'),
  entry('1bc5cb3e-1e24-43d5-86ef-196ee3bc7415', 'RedHat', 'Red Hat Enterprise Linux 8'),
  entry('282fcd04-173e-4bb6-877a-69ed753b6071', 'RedHat', 'Red Hat Enterprise Linux 9'),
  entry('da1acf66-983a-4f5a-8d39-9656e48d83f5', 'Rocky Linux', 'Rocky Linux 8'),
  entry('824bedb5-8df7-48f3-8982-bea9efae56dd', 'Rocky Linux', 'Rocky Linux 9'),
  entry('82b78465-7dc1-40fa-9b2f-c30985d08199', 'AlmaLinux', 'AlmaLinux 8'),
  entry('58cdb4f7-cc2f-41b8-b19c-bd8b8de52cf0', 'AlmaLinux', 'AlmaLinux 9'),
  entry('2469b88e-2537-401e-9a11-1569c1cecf59', 'SUSE', 'SUSE Linux Enterprise Server 15 (64-bit)'),
  entry('01e3447b-0ebe-4fe4-8631-f4ef91776531', 'Ubuntu', 'Ubuntu 20.04 LTS'),
  entry('79b239bc-aaf6-4f2e-b980-53043a13236e', 'Ubuntu', 'Ubuntu 22.04 LTS'),
  entry('8f4f12a2-6622-4781-80f1-4433dbfecbb7', 'Ubuntu', 'Ubuntu 24.04 LTS'),
  entry('963e0203-3b16-4376-9a36-77814b60e5af', 'Windows', 'Windows 10 (64-bit)'),
  entry('c825193e-8cfd-46d2-a76b-2d80d5a8df57', 'Windows', 'Windows 11 (64-bit)'),
  entry('0757126e-4b16-4be0-8692-3bfc6af1f9bd', 'Windows', 'Windows Server 2019 (64-bit)'),
  entry('58803c68-90dd-49dc-ab93-ff33fed89483', 'Windows', 'Windows Server 2022 (64-bit)'),
].sort((a, b) => (a.description < b.description ? -1 : a.description > b.description ? 1 : 0));

const byId = new Map(OS_TYPES.map((os) => [os.id, os]));
const byDescription = new Map(OS_TYPES.map((os) => [os.description, os]));

export function findOsType(id: string): OsType | undefined {
  return byId.get(id);
}

/** Exact, as registerTemplate(osType) must name it. */
export function osTypeByDescription(description: string): OsType | undefined {
  return byDescription.get(description);
}

/**
 * The OS type an instance or template recorded: by id, or by description for what was recorded
 * before the catalogue existed (instances then copied their template's description).
 */
export function recordedOsType(recorded: string): OsType | undefined {
  return byId.get(recorded) ?? byDescription.get(recorded);
}

export const osTypeMessages = {
  unknownId: (id: string) => `Unable to find OS type ${JSON.stringify(id)}; osTypes lists the known ones`,
  unknownDescription: (description: string) => `Unknown OS type ${JSON.stringify(description)}; name one by its description as osTypes lists it`,
};
