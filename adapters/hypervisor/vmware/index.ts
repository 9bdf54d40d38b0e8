// The VMware sources by kind: the one place a new kind (vCenter, ovftool) is added.
import type { VmwareHostRef } from '../../../domain/agent-protocol/index.js';
import { EsxiSshSource } from './esxi-ssh-source.js';
import type { VmwareCredential, VmwareGuestSource } from './source.js';

export function openVmwareSource(host: VmwareHostRef, credential: VmwareCredential): VmwareGuestSource {
  switch (host.kind) {
    case 'esxi-ssh':
      return new EsxiSshSource(host, credential);
  }
}

export * from './source.js';
