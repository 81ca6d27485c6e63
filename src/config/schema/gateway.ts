import { z } from 'zod';
import { carePlansSchema } from './careplans.js';
import { destinationSchema } from './destinations.js';
import { partnersSchema } from './partners.js';
import { apiKeyHash, filePath, id } from './primitives.js';
import { routeSchema } from './routes.js';
import { consentSchema, rosterSchema } from './consent.js';
import { serverSchema } from './server.js';
import { mappingsSchema, redisSchema, storeSchema } from './storage.js';
import { sourceSchema } from './sources.js';

export const apiKeySchema = z.strictObject({
  id: id(),
  hash: apiKeyHash(),
  /** Partner ids this key may see, or ["*"] for an admin key. */
  partners: z.array(z.union([z.literal('*'), id()], { error: 'must be a partner id or "*"' })).min(1, 'must list partner ids or "*"'),
  /**
   * What the key may do (the console's pages follow it). Default: admin for ["*"], else partner.
   * operator: sees everything, replays and requeues, but never acts for a partner.
   */
  role: z.enum(['admin', 'operator', 'partner']).optional(),
});

/** The whole file, before paths are resolved and cross-references checked. */
export const gatewayConfigSchema = z.strictObject({
  server: serverSchema.prefault({}),
  /** SQLite database and private Redis data. Absent: ./data in the working directory. */
  dataDir: filePath().optional(),
  store: storeSchema.prefault({}),
  redis: redisSchema.prefault({}),
  mappings: mappingsSchema.prefault({}),
  partners: partnersSchema,
  sources: z.array(sourceSchema).default([]),
  destinations: z.array(destinationSchema).default([]),
  routes: z.array(routeSchema).default([]),
  consent: consentSchema.prefault({}),
  roster: rosterSchema.prefault({}),
  careplans: carePlansSchema.prefault({}),
  apiKeys: z.array(apiKeySchema).default([]),
});

export type ParsedGatewayConfig = z.output<typeof gatewayConfigSchema>;
