import { parentPort, workerData } from 'node:worker_threads';
import { convertForOutput } from './convert-one.js';
import { NdjsonBytes } from './ndjson-bytes.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

/**
 * Worker side of the parallel `convert`: receives batches of messages (one transferred buffer
 * plus offsets), converts each, and returns the NDJSON text and the stderr lines for the batch.
 */
export interface ConvertBatch {
  seq: number;
  file: string;
  bytes: Uint8Array;
  /** [start, end, index, line] per message. */
  spans: Int32Array;
}

export interface ConvertBatchResult {
  seq: number;
  /** UTF-8 NDJSON, encoded here so the main thread only writes bytes. */
  out: Uint8Array;
  err: string;
  failed: number;
}

export interface ConvertWorkerData {
  /** The profile the main thread already loaded and validated: plain data, cloned into the worker. */
  profile: MappingProfile;
  quiet: boolean;
}

// Taking the profile as data keeps the YAML parser and schema validator out of the worker: they
// cost module loading and JIT compilation in every worker for one use.
const { profile, quiet } = workerData as ConvertWorkerData;

parentPort!.on('message', (batch: ConvertBatch) => {
  const buf = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  // ~12 KB per message to start with: an ADT Bundle is ~10 KB; the buffer grows when one is larger.
  const out = new NdjsonBytes((batch.spans.length / 4) * 12_000);
  let err = '';
  let failed = 0;
  for (let i = 0; i < batch.spans.length; i += 4) {
    const bytes = buf.subarray(batch.spans[i], batch.spans[i + 1]);
    const r = convertForOutput(bytes, profile, { file: batch.file, index: batch.spans[i + 2], line: batch.spans[i + 3] }, quiet);
    if (r.json === undefined) failed++;
    else out.line(r.json);
    err += r.stderr;
  }
  const bytes = out.bytes();
  const result: ConvertBatchResult = { seq: batch.seq, out: bytes, err, failed };
  parentPort!.postMessage(result, [bytes.buffer as ArrayBuffer]);
});
