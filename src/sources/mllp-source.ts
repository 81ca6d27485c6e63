import { readFileSync } from 'node:fs';
import type { MllpSourceConfig } from '../config/types.js';
import { buildAck, HL7_ERROR, scrapeAckSource } from '../hl7v2/index.js';
import type { Inbox } from '../ingest/inbox.js';
import { createMllpServer, type MllpServer } from '../mllp/server.js';
import type { Logger } from '../observability/log.js';
import type { CarebridgeMetrics } from '../observability/metrics.js';

/** Closes the gateway decided on: worth a warning (a peer closing is ordinary). */
const FORCED_CLOSES = new Set(['idle-timeout', 'frame-timeout', 'oversize', 'handler-failed']);

/**
 * An MLLP listener feeding the inbox. The ACK goes back only after the inbox committed the
 * message; when the store is unavailable the connection is closed without an ACK, so the sender
 * keeps the message and resends it (never ACK what is not stored).
 */
export function createMllpSource(
  cfg: MllpSourceConfig,
  inbox: Inbox,
  log: Logger,
  onAck?: (seconds: number) => void,
  metrics?: Pick<CarebridgeMetrics, 'mllpConnectionsClosed' | 'mllpConnectionsRejected'>,
): MllpServer {
  const allowed = new Set(cfg.tls?.allowedClientCNs ?? []);
  return createMllpServer({
    host: cfg.host,
    port: cfg.port,
    maxMessageBytes: cfg.maxMessageBytes,
    idleTimeoutMs: cfg.idleTimeoutMs,
    frameTimeoutMs: cfg.frameTimeoutMs,
    maxConnections: cfg.maxConnections,
    maxConnectionsPerAddress: cfg.maxConnectionsPerAddress,
    events: {
      connectionClosed: (conn, reason) => {
        metrics?.mllpConnectionsClosed.inc({ source: cfg.id, reason });
        const fields = {
          source: cfg.id,
          connection: conn.id,
          remote: conn.remoteAddress,
          reason,
          openForMs: Date.now() - conn.openedAt.getTime(),
        };
        if (FORCED_CLOSES.has(reason)) log.warn(fields, 'MLLP connection closed by the gateway');
        else log.info(fields, 'MLLP connection closed');
      },
      connectionRejected: (r) => {
        metrics?.mllpConnectionsRejected.inc({ source: cfg.id, reason: r.reason });
        log.warn({ source: cfg.id, remote: r.remoteAddress, reason: r.reason }, 'MLLP connection refused');
      },
    },
    tls: cfg.tls
      ? {
          key: readFileSync(cfg.tls.key),
          cert: readFileSync(cfg.tls.cert),
          ca: cfg.tls.ca ? readFileSync(cfg.tls.ca) : undefined,
          requestCert: cfg.tls.requestClientCert,
          rejectUnauthorized: true,
        }
      : undefined,
    handler: async (payload, conn) => {
      // Per-partner mutual TLS: only the listed certificate names may send on this listener.
      if (allowed.size > 0 && (!conn.authorized || !conn.peerCertificate?.subjectCN || !allowed.has(conn.peerCertificate.subjectCN))) {
        log.warn({ source: cfg.id, remote: conn.remoteAddress }, 'client certificate not allowed on this listener');
        return Buffer.from(
          buildAck(scrapeAckSource(payload.toString('latin1')), {
            code: 'AR',
            error: { code: HL7_ERROR.INTERNAL_ERROR, message: 'sender not authorized' },
          }),
          'latin1',
        );
      }
      const started = performance.now();
      const results = await inbox.receiveHl7(payload, { sourceKind: 'mllp', sourceName: cfg.id, partnerId: cfg.partner });
      onAck?.((performance.now() - started) / 1000);
      const acks = results.map((r) => r.ack).filter((a): a is string => a !== undefined);
      return Buffer.from(acks.join(''), 'utf8');
    },
    onHandlerError: (err, conn) => {
      // The store could not take the message: no ACK, close, let the sender retry.
      log.error({ source: cfg.id, connection: conn.id, err: (err as Error)?.message }, 'message not stored; closing without ACK');
      return undefined;
    },
    onOversize: (frame) => {
      log.warn({ source: cfg.id, bytes: frame.receivedBytes, limit: frame.limit }, 'oversized message rejected');
      const src = scrapeAckSource(frame.head.toString('latin1'));
      return Buffer.from(
        buildAck(src, { code: 'AR', error: { code: HL7_ERROR.DATA_TYPE, message: `message exceeds ${frame.limit} bytes` } }),
        'latin1',
      );
    },
  });
}
