import { BUILTIN_ADAPTERS } from '../../adapters/index.js';
import { AdapterRegistry } from './registry.js';

/** The registry of the built-in adapters: the engine's one door to them (a test keeps it the only one). */
export const builtinAdapters = new AdapterRegistry(BUILTIN_ADAPTERS);
