/**
 * The CRM users of a fake, one model for both readers: the owner lookup reads a user by id
 * (GET Users/{id} and the like, src/crm/<crm>/owners.ts), the call log finds a user by e-mail
 * (the call's agent becomes the record's assigned user, src/crm/<crm>/call-log.ts).
 * `set(id, email)` keeps the Map-like call the owners tests use; `email: null` is a user
 * without an address, `active: false` a disabled / inactive user (still readable by id).
 */
export interface FakeUser<Id> {
  id: Id;
  email: string | null;
  active: boolean;
}

export class FakeUsers<Id extends string | number> {
  private readonly users = new Map<Id, FakeUser<Id>>();

  set(id: Id, email: string | null, options: { active?: boolean } = {}): this {
    this.users.set(id, { id, email, active: options.active ?? true });
    return this;
  }

  has(id: Id): boolean {
    return this.users.has(id);
  }

  /** The user's e-mail by id; undefined when there is no such user, null when it has none. */
  get(id: Id): string | null | undefined {
    return this.users.get(id)?.email;
  }

  user(id: Id): FakeUser<Id> | undefined {
    return this.users.get(id);
  }

  /** Users whose e-mail is `email` (case-insensitive, as the CRMs compare addresses), insertion order. */
  withEmail(email: string, options: { activeOnly?: boolean } = {}): Array<FakeUser<Id>> {
    const wanted = email.toLowerCase();
    return [...this.users.values()].filter((u) => u.email !== null && u.email.toLowerCase() === wanted && (!options.activeOnly || u.active));
  }

  ids(): Id[] {
    return [...this.users.keys()];
  }

  clear(): void {
    this.users.clear();
  }
}
