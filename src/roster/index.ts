export * from './types.js';
export * from './store-types.js';
export { Roster, openRosterStore, type OpenRosterOptions } from './roster-store.js';
export { RosterResolver } from './lookup.js';
export { RosterInputError, RosterNotFoundError } from './errors.js';
export { SqlRosterBackend } from './sql-roster.js';
export { openSqliteRoster, openPostgresRoster, type SqliteRosterOptions, type PostgresRosterOptions } from './open-roster.js';
export { matchKey } from './matching.js';
export { memberPatient, ROSTER_ID_NAMESPACE } from './patient.js';
