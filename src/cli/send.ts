import { readFileSync } from 'node:fs';
import { parseAck } from '../delivery/mllp-ack.js';
import { splitMessages } from '../hl7v2/batch.js';
import { MllpClient, type MllpClientTlsOptions } from '../mllp/client.js';
import { parseArgs, UsageError } from './args.js';
import type { CliIo } from './convert.js';

function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new UsageError(`--${option}: cannot read ${file}`);
  }
}

function tlsOptions(options: Record<string, string | true>): MllpClientTlsOptions | undefined {
  const { tls, ca, cert, key } = options;
  if (!tls) {
    if (ca || cert || key) throw new UsageError('--ca, --cert and --key need --tls');
    return undefined;
  }
  if (Boolean(cert) !== Boolean(key)) throw new UsageError('--cert and --key go together');
  return {
    ...(typeof ca === 'string' && { ca: readPem(ca, 'ca') }),
    ...(typeof cert === 'string' && { cert: readPem(cert, 'cert') }),
    ...(typeof key === 'string' && { key: readPem(key, 'key') }),
  };
}

/** MSH-10 for the printed line (an id, not patient data). */
function controlId(message: string): string {
  const msh = message.slice(0, message.search(/\r|\n|$/));
  return msh.split(msh[3] ?? '|')[9] || '(no MSH-10)';
}

/**
 * `carebridge send`: each message of each file (single, concatenated or batched) over one MLLP
 * connection, one at a time, printing the ACK code and text. Segment separators are sent as CR
 * whatever the file uses (files edited on a workstation often end lines with LF or CRLF).
 */
export async function sendCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional: files, options } = parseArgs(argv, {
    host: 'value',
    port: 'value',
    tls: 'flag',
    ca: 'value',
    cert: 'value',
    key: 'value',
    timeout: 'value',
  });
  if (files.length === 0) throw new UsageError('no input FILE given');
  if (options.port === undefined) throw new UsageError('--port is required');
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port must be a port number (1-65535)');
  const timeoutMs = options.timeout === undefined ? 30_000 : Number(options.timeout) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError('--timeout must be seconds > 0');
  const host = typeof options.host === 'string' ? options.host : '127.0.0.1';
  const tls = tlsOptions(options);
  const payloads: { file: string; index: number; text: string }[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      throw new UsageError(`cannot read ${file}: no such file`);
    }
    for (const item of splitMessages(bytes).items) {
      if (item.kind === 'junk') io.stderr.write(`${file}: line ${item.line}: ${item.reason} (not sent)\n`);
      else
        payloads.push({
          file,
          index: item.index,
          text:
            item.bytes
              .toString('latin1')
              .replace(/\r\n|\n/g, '\r')
              .replace(/\r+$/, '') + '\r',
        });
    }
  }

  const client = new MllpClient({ host, port, tls, ackTimeoutMs: timeoutMs });
  let failed = 0;
  try {
    for (const p of payloads) {
      const where = `${p.file}: message ${p.index} (MSH-10 ${controlId(p.text)})`;
      try {
        const ack = parseAck((await client.send(Buffer.from(p.text, 'latin1'))).toString('latin1'));
        if (!ack) {
          failed++;
          io.stdout.write(`${where}: the answer is not an ACK (no MSA segment)\n`);
          continue;
        }
        if (ack.code !== 'AA' && ack.code !== 'CA') failed++;
        io.stdout.write(
          `${where}: ${ack.code}${ack.text ? ` ${ack.text}` : ''}${ack.errorCodes.length ? ` (HL7 error ${ack.errorCodes.join(', ')})` : ''}\n`,
        );
      } catch (e) {
        failed++;
        io.stdout.write(`${where}: no ACK: ${(e as Error).message}\n`);
      }
    }
  } finally {
    await client.close();
  }
  io.stderr.write(`${payloads.length - failed} accepted, ${failed} not accepted\n`);
  return failed > 0 ? 1 : 0;
}
