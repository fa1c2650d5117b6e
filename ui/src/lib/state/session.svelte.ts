import type { AppStatus, Permission } from '$lib/ipc/types';

/** App-wide state: the core's AppStatus (active profile, permissions, secret store). */
class Session {
  status = $state<AppStatus | null>(null);

  can(permission: Permission): boolean {
    return this.status?.permissions.includes(permission) ?? false;
  }
}

export const session = new Session();
