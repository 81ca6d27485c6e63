import type { Migration } from '../migration.js';

// Version 3, not 2: version 2 (status `filtered`) is on its way from another branch, and the
// runner applies every missing version, so the two land in either order. Adding nullable columns
// needs no table rebuild.
export const SQLITE_DELIVERY_ROUTES: Migration = {
  version: 3,
  name: 'deliveries: route_id and partner_id (why each delivery exists)',
  sql: `
ALTER TABLE deliveries ADD COLUMN route_id TEXT;
ALTER TABLE deliveries ADD COLUMN partner_id TEXT;
`,
};
