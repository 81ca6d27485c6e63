/** The `carebridge` commands: name, help text (its first line is the usage line) and how to run it. */
import { CONVERT_USAGE, type CliIo } from './convert.js';

export interface CliCommand {
  name: string;
  /** One-line summary for `carebridge help`. */
  summary: string;
  /** Full help; the first line is the usage line printed on a usage error. */
  help: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export const usageLine = (c: CliCommand): string => c.help.split('\n')[0];

/** Loaded lazily: `start` pulls in the whole gateway, `hash-key` should not wait for it. */
export const COMMANDS: CliCommand[] = [
  {
    name: 'start',
    summary: 'run the gateway (no --config: the demo)',
    get help() {
      return START_HELP;
    },
    run: async (argv, io) => (await import('./start.js')).startCommand(argv, io),
  },
  {
    name: 'check',
    summary: 'validate a config and everything it references, without starting',
    get help() {
      return CHECK_HELP;
    },
    run: async (argv, io) => (await import('./check.js')).checkCommand(argv, io),
  },
  {
    name: 'convert',
    summary: 'HL7 v2 → FHIR R4 NDJSON on stdout',
    get help() {
      return CONVERT_USAGE;
    },
    run: async (argv, io) => (await import('./convert.js')).convertCommand(argv, io),
  },
  {
    name: 'test',
    summary: "run the partners' golden mapping tests",
    get help() {
      return TEST_HELP;
    },
    run: async (argv, io) => (await import('./golden-tests.js')).testCommand(argv, io),
  },
  {
    name: 'send',
    summary: 'send HL7 v2 messages over MLLP and print each ACK',
    get help() {
      return SEND_HELP;
    },
    run: async (argv, io) => (await import('./send.js')).sendCommand(argv, io),
  },
  {
    name: 'import-members',
    summary: 'load a member (roster) file without SFTP; --dry-run shows the diff',
    get help() {
      return IMPORT_HELP;
    },
    run: async (argv, io) => (await import('./import-members.js')).importMembersCommand(argv, io),
  },
  {
    name: 'hash-key',
    summary: 'print the scrypt hash of an API key read on stdin',
    get help() {
      return HASH_KEY_HELP;
    },
    run: async (argv, io) => (await import('./hash-key.js')).hashKeyCommand(argv, io),
  },
];

export const START_HELP = `usage: carebridge start [--config FILE] [--no-demo-feed]
  Runs the gateway until SIGINT/SIGTERM. Checks the config first (as \`carebridge check\`).
  Without --config it runs the demo (config/demo.yaml): SQLite under ./data, a private
  redis-server, MLLP on 127.0.0.1:2575 (CAREBRIDGE_MLLP_PORT), HTTP on 127.0.0.1:8080
  (CAREBRIDGE_HTTP_PORT), a member file loaded from a local folder and a simulated hospital feed.
  --no-demo-feed  do not run the demo's simulated hospital feed
  exit: 0 stopped cleanly, 1 could not start, 2 usage or configuration error`;

export const CHECK_HELP = `usage: carebridge check [--config FILE]
  Loads and validates the config and everything it references without starting listeners:
  mapping profiles, member and care-plan layouts, key and certificate files, host-key pins,
  destinations used by routes and partners, and what each destination can be sent.
  exit: 0 valid, 2 one line per problem (file and key)`;

export const TEST_HELP = `usage: carebridge test [--partner ID] [--config FILE] [--update]
  Runs the golden mapping tests in mappings/partners/<id>/tests/: each HL7 v2 message (*.hl7)
  converted and compared with its expected Bundle (*.fhir.json), each member file compared with
  its expected rows (*.rows.json). Prints a readable diff of each failure and \`N passed, M failed\`.
  --partner ID   only this partner's tests
  --config FILE  gateway config (its mappings folder)
  --update       rewrite the expectations from what the mappings produce now
  exit: 0 all passed, 1 any failed, 2 usage error`;

export const SEND_HELP = `usage: carebridge send FILE... [--host H] --port N [--tls --ca F --cert F --key F]
  Sends every HL7 v2 message in the files over MLLP, one at a time, and prints each ACK code and text.
  --host H       default 127.0.0.1
  --port N       the MLLP listener's port
  --tls          TLS; --ca verifies the server, --cert/--key present a client certificate
  exit: 0 all accepted, 1 any message NACKed or not answered, 2 usage error`;

export const IMPORT_HELP = `usage: carebridge import-members FILE --partner ID [--format F] [--config FILE] [--dry-run]
  Loads a member (roster) file into the roster with the partner's layout, as an SFTP or folder
  source would, and prints the result: added, changed, terminated, row errors with line numbers.
  --format F     member-csv (default), member-fixed-width, member-xlsx, x12-834
  --config FILE  gateway config (store, partners, mappings); default the demo config
  --dry-run      print the diff and apply nothing
  exit: 0 imported (row errors are reported, not fatal), 1 the file could not be read, 2 usage error`;

export const HASH_KEY_HELP = `usage: carebridge hash-key
  Reads an API key on stdin (at least 16 characters; one trailing newline is ignored) and prints
  the scrypt hash for apiKeys[].hash. Reading stdin keeps the key out of shell history and ps:
    printf '%s' "$KEY" | carebridge hash-key
  exit: 0 printed, 2 the key is too short`;
