#!/usr/bin/env node
// @ts-check
/**
 * The benchmark's MLLP senders, as their own process: N connections, one message in flight per
 * connection (MLLP's rule: the next message goes after the ACK), messages from gen-adt.mjs
 * (deterministic), message i on connection i mod N. Measures each message's ACK latency (frame
 * written → ACK frame received) and checks the ACK answers it with AA/CA.
 *
 *   node bench/gateway/loadgen.mjs --port P [--connections 16] [--count 20000] [--seed 42]
 *
 * Messages are generated and framed before the clock starts. Prints one JSON line on stdout at the
 * end (counts, epoch-ms start/end, latency percentiles in ms, its own CPU seconds). Exit 1 on any
 * connection failure or NACK: the bench measures a healthy system.
 */
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { generateAdtMessages } from '../gen-adt.mjs';
import { percentile } from './lib/percentile.mjs';

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    connections: { type: 'string', default: '16' },
    count: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '42' },
  },
});
const port = Number(values.port);
const connections = Number(values.connections);
const count = Number(values.count);
if (!port || !(connections > 0) || !(count > 0)) {
  process.stderr.write('usage: loadgen.mjs --port P [--connections N] [--count M] [--seed S]\n');
  process.exit(2);
}

/** @type {{ frame: Buffer, controlId: string }[][]} */
const perConnection = Array.from({ length: connections }, () => []);
let i = 0;
for (const text of generateAdtMessages({ count, seed: Number(values.seed) })) {
  const body = Buffer.from(text, 'latin1');
  const frame = Buffer.allocUnsafe(body.length + 3);
  frame[0] = VT;
  body.copy(frame, 1);
  frame[body.length + 1] = FS;
  frame[body.length + 2] = CR;
  const controlId = text.slice(0, text.indexOf('\r')).split('|')[9];
  perConnection[i % connections].push({ frame, controlId });
  i++;
}

const latencies = new Float64Array(count);
let done = 0;
let nacks = 0;
/** @type {string[]} */
const problems = [];

/**
 * One sender: connect, then send → wait for the ACK → next.
 * @param {{ frame: Buffer, controlId: string }[]} queue
 */
function runConnection(queue) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: values.host, port }, () => {
      socket.setNoDelay(true);
      next();
    });
    let index = 0;
    let sentAt = 0;
    /** @type {Buffer} */
    let pending = Buffer.alloc(0);
    const next = () => {
      if (index >= queue.length) {
        socket.end();
        resolve(undefined);
        return;
      }
      sentAt = performance.now();
      socket.write(queue[index].frame);
    };
    socket.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const end = pending.indexOf(FS);
        if (end < 0 || end + 1 >= pending.length) return;
        const start = pending.indexOf(VT);
        const ack = pending.toString('latin1', start + 1, end);
        pending = pending.subarray(end + 2);
        latencies[done++] = performance.now() - sentAt;
        const msa =
          ack
            .split('\r')
            .find((s) => s.startsWith('MSA|'))
            ?.split('|') ?? [];
        if ((msa[1] !== 'AA' && msa[1] !== 'CA') || msa[2] !== queue[index].controlId) {
          nacks++;
          if (problems.length < 5) problems.push(`${msa[1] ?? 'no MSA'} for message ${index} on a connection`);
        }
        index++;
        next();
      }
    });
    socket.on('error', (err) => reject(err));
    socket.on('close', () => {
      if (index < queue.length) reject(new Error(`connection closed after ${index} of ${queue.length} messages`));
    });
  });
}

const startAt = Date.now();
try {
  await Promise.all(perConnection.map(runConnection));
} catch (err) {
  process.stderr.write(`loadgen: ${/** @type {Error} */ (err).message}\n`);
  process.exit(1);
}
const endAt = Date.now();
const sorted = Array.from(latencies.subarray(0, done)).sort((a, b) => a - b);
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({
    sent: count,
    acked: done - nacks,
    nacks,
    problems,
    startAt,
    endAt,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? 0,
    cpuSec: (cpu.user + cpu.system) / 1e6,
  })}\n`,
);
process.exit(nacks > 0 ? 1 : 0);
