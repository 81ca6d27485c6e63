// ESLint (flat config): the recommended JavaScript and typescript-eslint rules (without type
// information: a type-aware run costs minutes on this machine and `tsc` already checks types), and
// the import boundaries of DESIGN.md. Prettier owns the layout (.prettierrc.json); no style rules here.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals, for the plain .mjs scripts (TypeScript files get theirs from @types/node). */
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'AbortController',
    'AbortSignal',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'performance',
    'fetch',
    'structuredClone',
    'globalThis',
  ].map((name) => [name, 'readonly']),
);

/**
 * Engine files (src/) that still import a specific adapter. The adapter registry
 * (src/conversion/builtin.ts, the one module meant to know adapters) replaces these imports; each
 * file leaves this list when it stops importing adapters/, and the list must end empty.
 */
const ENGINE_FILES_IMPORTING_ADAPTERS = [
  'src/api/routes/careplans.ts',
  'src/careplan/file-import.ts',
  'src/delivery/payloads.ts',
  'src/ingest/convert-message.ts',
  'src/ingest/member-partners.ts',
  'src/ingest/inbox.ts',
  'src/ingest/pipeline.ts',
  'src/roster/importer.ts',
  'src/roster/normalize.ts',
  'src/roster/store-types.ts',
];

/** Adapter files that still reach into care-plan or config internals (same rule: the list shrinks). */
const ADAPTER_FILES_IMPORTING_ENGINE_INTERNALS = [
  'adapters/careplan-csv/to-careplan.ts',
  'adapters/careplan-csv/values.ts',
  'adapters/member-common/layout-loader.ts',
];

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'data/', 'bench/out/', 'fixtures/', '.tmp/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `_`-prefixed names are unused on purpose (a callback's required parameter, a discarded element).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // HL7 v2 framing and FHIR id rules are about control characters: such regexes are on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Small modules with one job: no source file over 600 lines.
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    rules: { 'max-lines': ['error', { max: 600 }] },
  },
  {
    // Tests build malformed and partial inputs on purpose.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: nodeGlobals },
  },
  {
    // The engine knows adapters only through the registry.
    files: ['src/**/*.ts'],
    ignores: ['src/conversion/builtin.ts', ...ENGINE_FILES_IMPORTING_ADAPTERS],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters', '**/adapters/**'],
              message:
                'The engine must not import a specific adapter: register it in src/conversion/builtin.ts and reach it through the adapter registry.',
            },
          ],
        },
      ],
    },
  },
  {
    // One inbox is the only writer of inbound messages (DESIGN.md, issue 12): src/ingest/inbound.ts
    // calls the store's acceptInbound with each kind's dedupe key; everything else goes through it.
    files: ['src/**/*.ts', 'adapters/**/*.ts'],
    ignores: ['src/ingest/inbound.ts', 'src/store/**'], // the store implements it
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['MemberExpression[property.name="acceptInbound"]', 'ObjectPattern > Property[key.name="acceptInbound"]'].map((selector) => ({
          selector,
          message:
            'Inbound messages are written by the inbox only: use InboundWriter.write (src/ingest/inbound.ts) with a kind from DEDUPE_KEYS.',
        })),
      ],
    },
  },
  {
    // Adapters use the engine's public modules, not the internals of care plans or config.
    files: ['adapters/**/*.ts'],
    ignores: ADAPTER_FILES_IMPORTING_ENGINE_INTERNALS,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src/careplan/**', '!**/src/careplan/index.js', '**/src/config/**', '!**/src/config/index.js'],
              message:
                "An adapter must not reach into src/careplan or src/config internals: use the module's index.js, or take the value as a parameter.",
            },
          ],
        },
      ],
    },
  },
);
