import { createReadStream, statSync } from 'node:fs';
import { loadProfile, ProfileError } from '../mapping/profile-loader.js';
import type { MappingProfile } from '../mapping/profile-schema.js';
import { MessageSplitter } from '../hl7v2/index.js';
import { parseArgs, UsageError } from './args.js';
import { loadConfigForCli } from './config-for-cli.js';
import { BufferedWriter } from './buffered-writer.js';
import { convertForOutput, noMessageLine } from './convert-one.js';
import { convertFilesParallel } from './convert-parallel.js';
import { availableParallelism } from 'node:os';

const PARALLEL_THRESHOLD_BYTES = 4 * 1024 * 1024;

export const CONVERT_USAGE = `usage: carebridge convert FILE... [--partner ID] [--config FILE] [--quiet]
  Converts HL7 v2 messages (single, concatenated, or FHS/BHS batches) to FHIR R4 and prints one
  Bundle per message as NDJSON on stdout. Failures go to stderr, one line each.
  --partner ID   apply mappings/partners/ID/ over the base mapping profile
  --config FILE  gateway config (mapping folder, partners)
  --quiet        do not print conversion warnings (failures are always printed)
  exit: 0 all converted, 1 any message failed or a file held no message, 2 usage or configuration error`;

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** `carebridge convert`: streams each file, so a file of a million messages is never held whole. */
export async function convertCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional: files, options } = parseArgs(argv, { partner: 'value', config: 'value', quiet: 'flag', help: 'flag' });
  if (options.help) {
    io.stdout.write(CONVERT_USAGE + '\n');
    return 0;
  }
  if (files.length === 0) throw new UsageError('no input FILE given');
  for (const f of files) {
    let stat;
    try {
      stat = statSync(f);
    } catch {
      throw new UsageError(`cannot read ${f}: no such file`);
    }
    if (stat.isDirectory()) throw new UsageError(`cannot read ${f}: it is a directory (name the files in it, e.g. ${f}/*.hl7)`);
    if (!stat.isFile()) throw new UsageError(`cannot read ${f}: not a regular file`);
  }
  const config = typeof options.config === 'string' ? loadConfigForCli(options.config) : undefined;
  const partner = typeof options.partner === 'string' ? options.partner : undefined;
  let profile: MappingProfile;
  try {
    profile = loadProfile({ partner, mappingsDir: config?.mappingsDir });
  } catch (e) {
    if (e instanceof ProfileError) throw new UsageError(`mapping profile: ${e.message}`);
    throw e;
  }

  const out = new BufferedWriter(io.stdout);
  const err = new BufferedWriter(io.stderr);
  let failed = 0;
  // Worker threads pay off once there is enough work to amortize their start-up (~0.1 s each).
  const totalBytes = files.reduce((n, f) => n + statSync(f).size, 0);
  const workers = Math.min(availableParallelism(), 8);
  if (totalBytes >= PARALLEL_THRESHOLD_BYTES && workers > 1 && !process.env.CAREBRIDGE_CONVERT_SERIAL) {
    failed = await convertFilesParallel(files, { workers, profile, quiet: Boolean(options.quiet) }, out, err);
    await out.flush();
    await err.flush();
    return failed > 0 ? 1 : 0;
  }
  for (const file of files) {
    const splitter = new MessageSplitter();
    let messages = 0;
    const onItems = async (items: ReturnType<MessageSplitter['push']>) => {
      for (const item of items) {
        if (item.kind === 'message') messages++;
        if (item.kind === 'junk') {
          failed++;
          await err.write(`${file}: ${item.reason}\n`);
          continue;
        }
        const r = convertForOutput(item.bytes, profile, { file, index: item.index, line: item.line }, Boolean(options.quiet));
        if (r.json === undefined) failed++;
        else await out.write(r.json + '\n');
        if (r.stderr) await err.write(r.stderr);
      }
    };
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) await onItems(splitter.push(chunk as Buffer));
    await onItems(splitter.end());
    for (const w of splitter.warnings) await err.write(`${file}: warning: ${w}\n`);
    if (messages === 0) {
      failed++;
      await err.write(noMessageLine(file));
    }
  }
  await out.flush();
  await err.flush();
  return failed > 0 ? 1 : 0;
}
