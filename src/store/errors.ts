// Typed store errors so callers (API, pipeline) can map them to 404 / 400 without parsing messages.

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The referenced message or delivery does not exist. */
export class NotFoundError extends StoreError {}

/** Caller input the store cannot accept (bad enum value, empty dedupe key, malformed cursor). */
export class StoreInputError extends StoreError {}

/** The database schema is newer than this build understands, or a migration failed. */
export class MigrationError extends StoreError {}
