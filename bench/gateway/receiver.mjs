#!/usr/bin/env node
// @ts-check
/**
 * The benchmark's webhook destination, as its own process: what a care-management platform's
 * endpoint does cheaply and correctly. Verifies the Standard Webhooks signature (same scheme as
 * src/delivery/webhook-signature.ts, re-implemented here so the bench does not depend on the
 * build), dedupes by Idempotency-Key, and remembers which message each delivery carried (the
 * Bundle's identifier.value, `<MSH-3^MSH-4>|<MSH-10>`), so the runner can prove zero loss.
 *
 *   node bench/gateway/receiver.mjs --secret S
 *
 * Prints `{"port":N}` on stdout once listening (127.0.0.1, free port). GET /stats answers counts
 * and first/last arrival times (epoch ms); it never returns payloads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { secret: { type: 'string' } } });
const secret = values.secret;
if (!secret) {
  process.stderr.write('usage: receiver.mjs --secret S\n');
  process.exit(2);
}

const keys = new Set();
const messages = new Set();
const stats = { accepted: 0, duplicates: 0, rejected: 0, firstAt: 0, lastAt: 0 };

/**
 * Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`,
 * the key being the secret's bytes (the bench's secret has no `whsec_` prefix).
 * @param {string | undefined} id @param {string | undefined} signature @param {string | undefined} timestamp @param {Buffer} body
 */
function verified(id, signature, timestamp, body) {
  if (!id || !signature || !timestamp || !/^\d+$/.test(timestamp)) return false;
  const mac = createHmac('sha256', /** @type {string} */ (secret));
  mac.update(`${id}.${timestamp}.`);
  mac.update(body);
  const expected = Buffer.from(`v1,${mac.digest('base64')}`);
  return signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return expected.length === given.length && timingSafeEqual(expected, given);
  });
}

/** @param {import('node:http').ServerResponse} res @param {number} status @param {object} body */
function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    const cpu = process.cpuUsage();
    return reply(res, 200, { ...stats, distinctKeys: keys.size, distinctMessages: messages.size, cpuSec: (cpu.user + cpu.system) / 1e6 });
  }
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const header = (/** @type {string} */ name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (!verified(header('webhook-id'), header('webhook-signature'), header('webhook-timestamp'), body)) {
      stats.rejected++;
      return reply(res, 401, { error: 'bad signature' });
    }
    const key = header('idempotency-key');
    if (!key) {
      stats.rejected++;
      return reply(res, 400, { error: 'missing Idempotency-Key' });
    }
    if (keys.has(key)) {
      stats.duplicates++;
      return reply(res, 200, { duplicate: true });
    }
    let identifier;
    try {
      identifier = JSON.parse(body.toString('utf8'))?.identifier?.value;
    } catch {
      identifier = undefined;
    }
    if (typeof identifier !== 'string') {
      stats.rejected++;
      return reply(res, 400, { error: 'not a Bundle with an identifier' });
    }
    keys.add(key);
    messages.add(identifier);
    const now = Date.now();
    if (!stats.firstAt) stats.firstAt = now;
    stats.lastAt = now;
    stats.accepted++;
    reply(res, 200, { ok: true });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
