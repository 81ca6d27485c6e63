/**
 * Continuous MLLP load that behaves like an interface engine: N connections, one message in flight
 * each, unique control ids, and a message that got no ACK (connection refused or dropped, timeout)
 * is resent with the SAME bytes after reconnecting until it is acknowledged. Records which control
 * ids were ACKed and when, so the resilience tests can check them against the store and the
 * webhook receiver.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Hl7Message } from '../../../src/hl7v2/index.js';
import { MllpClient } from '../../../src/mllp/client.js';
import { adtMessage } from '../../helpers/gateway.js';

export interface MllpLoadOptions {
  port: number;
  /** Concurrent connections. */
  senders: number;
  /** Prefix of every control id (keep it short: MSH-10 is ST(20)); unique per test. */
  tag: string;
  /** Patients per sender: messages rotate over them, so per-patient ordering is exercised. */
  patientsPerSender?: number;
  /** Pause before resending after a failed send. Default 50 ms. */
  retryDelayMs?: number;
  /** A single message gives up after this long without an ACK (then the test fails). Default 120 s. */
  giveUpAfterMs?: number;
}

export class MllpLoad {
  /** Control ids answered AA/CA, in ACK order. */
  readonly acked: string[] = [];
  /** Control ids answered with anything else (AE/AR/CE/CR, or an ACK for another message). */
  readonly refused = new Map<string, string>();
  /** Control ids that were never acknowledged within giveUpAfterMs. */
  readonly gaveUp: string[] = [];
  /** Failed sends (refused connections, dropped connections, timeouts): resent afterwards. */
  sendFailures = 0;
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly clients: MllpClient[] = [];
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(private readonly options: MllpLoadOptions) {}

  start(): void {
    this.running = true;
    for (let k = 0; k < this.options.senders; k++) this.loops.push(this.senderLoop(k));
  }

  /** Stops starting new messages; each sender still finishes (resends until ACKed) the one in hand. */
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await Promise.all(this.clients.map((c) => c.close().catch(() => {})));
  }

  /** Resolves once at least `count` messages were ACKed in total; rejects after timeoutMs. */
  waitForAcks(count: number, timeoutMs = 120_000): Promise<void> {
    if (this.acked.length >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.acked.length} of ${count} ACKs within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private async senderLoop(k: number): Promise<void> {
    const client = new MllpClient({ host: '127.0.0.1', port: this.options.port, connectTimeoutMs: 2_000, ackTimeoutMs: 15_000 });
    this.clients.push(client);
    const patients = this.options.patientsPerSender ?? 10;
    for (let n = 0; this.running; n++) {
      const controlId = `${this.options.tag}${k}N${n}`;
      const bytes = Buffer.from(
        adtMessage(controlId, { mrn: `M${this.options.tag}${k}P${n % patients}`, event: n % patients === n ? 'A01' : 'A08' }),
        'latin1',
      );
      await this.sendUntilAcked(client, controlId, bytes);
    }
  }

  private async sendUntilAcked(client: MllpClient, controlId: string, bytes: Buffer): Promise<void> {
    const deadline = Date.now() + (this.options.giveUpAfterMs ?? 120_000);
    while (Date.now() < deadline) {
      let ack: Buffer;
      try {
        ack = await client.send(bytes);
      } catch {
        this.sendFailures++;
        await sleep(this.options.retryDelayMs ?? 50);
        continue;
      }
      const parsed = Hl7Message.parse(ack);
      const code = parsed.get('MSA-1');
      if ((code === 'AA' || code === 'CA') && parsed.get('MSA-2') === controlId) this.recordAck(controlId);
      else this.refused.set(controlId, `${code} for ${parsed.get('MSA-2')}`);
      return;
    }
    this.gaveUp.push(controlId);
  }

  private recordAck(controlId: string): void {
    this.acked.push(controlId);
    if (!this.waiters.length) return;
    const due = this.waiters.filter((w) => this.acked.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.acked.length < w.count);
    for (const w of due) w.resolve();
  }
}
