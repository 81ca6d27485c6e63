import { NotFoundError, StoreInputError } from '../store/errors.js';

// Subclasses of the store's typed errors, so the API maps them (404 / 400) without knowing the roster.

/** The member (or import) does not exist. */
export class RosterNotFoundError extends NotFoundError {}

/** Input the roster cannot accept (bad date, cursor, category). Messages are safe to show: no values. */
export class RosterInputError extends StoreInputError {}
