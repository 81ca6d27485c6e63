import type { Migration } from '../migration.js';

// The column CHECK of migration 1 is named messages_status_check by Postgres.
export const POSTGRES_FILTERED_STATUS: Migration = {
  version: 2,
  name: 'messages: status filtered (accepted, nothing to send: no converter, no route, unmatched member)',
  sql: `
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check CHECK (status IN ('received','processed','filtered','rejected','failed'));
`,
};
