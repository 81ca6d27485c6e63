import { z } from 'zod';
import { DESTINATION_MODULES, DESTINATION_TYPES } from '../../delivery/deliverers/registry.js';

type SchemasOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: T[K] extends { schema: infer S } ? S : never };
type Schemas = SchemasOf<typeof DESTINATION_MODULES>;

/** One schema per destination type, each from its module (src/delivery/deliverers/registry.ts). */
export const destinationSchema = z.discriminatedUnion('type', DESTINATION_MODULES.map((m) => m.schema) as unknown as Schemas, {
  error: `must be one of ${DESTINATION_TYPES.join(', ')}`,
});
