/** What the application layer needs from outside besides the event store. */
export interface Ids {
  /** A new unique id for an aggregate. */
  next(): string;
}

export interface Clock {
  now(): Date;
}

/**
 * Which groups a host belongs to. Memberships are recorded on group streams;
 * finding them from the host side needs an index, which a projection keeps.
 */
export interface Memberships {
  groupsOf(hostId: string): Promise<string[]>;
}

/** Where password hashes live: outside the event log, so history never holds a secret. */
export interface Credentials {
  setPassword(userId: string, password: string): Promise<void>;
}

/** Who holds which role now (from the users read model), for rules across accounts. */
export interface Directory {
  activeAdminIds(): Promise<string[]>;
}
