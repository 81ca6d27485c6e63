export * from './types.js';
export * from './store-types.js';
export { Roster, openRosterStore, type OpenRosterOptions } from './roster-store.js';
export { RosterResolver } from './lookup.js';
export { RosterInputError, RosterNotFoundError } from './errors.js';
export { SqliteRosterBackend, type SqliteRosterOptions } from './sqlite/sqlite-roster.js';
export { PostgresRosterBackend, type PostgresRosterOptions } from './postgres/postgres-roster.js';
export { matchKey } from './matching.js';
export { memberPatient, ROSTER_ID_NAMESPACE } from './patient.js';
