#!/usr/bin/env node
// Prints the config hash of an API key read from stdin, for apiKeys[].hash:
//   printf '%s' "$KEY" | node scripts/hash-api-key.mjs
// Reads stdin (not argv) so the key stays out of shell history and `ps`. Same format and scrypt
// parameters as src/config/api-keys.ts (a test keeps the two in step); plain JS so it runs
// from a fresh checkout without a build.
import { randomBytes, scryptSync } from 'node:crypto';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
// One trailing newline is what `echo` adds, not part of the key.
const key = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');

if (key.length < 16) {
  process.stderr.write('hash-api-key: the key must be at least 16 characters (read from stdin)\n');
  process.exit(2);
}
const salt = randomBytes(16);
const hash = scryptSync(key, salt, 32, { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
process.stdout.write(`scrypt:${salt.toString('base64')}:${hash.toString('base64')}\n`);
