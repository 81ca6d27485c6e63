import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { MemberFileError } from '../ingest/member-partners.js';
import { ProfileError } from '../mapping/profile-loader.js';
import { dryRunUpload, formatReport, importUpload, UPLOAD_FORMATS, UploadError, type UploadFormat } from '../ingest/member-upload.js';
import { parseArgs, UsageError } from './args.js';
import { checkConfig } from './check.js';
import type { CliIo } from './convert.js';

/** `carebridge import-members`: a member file into the roster (or, with --dry-run, what it would change). */
export async function importMembersCommand(argv: string[], io: CliIo): Promise<number> {
  const { positional, options } = parseArgs(argv, { partner: 'value', format: 'value', config: 'value', 'dry-run': 'flag' });
  if (positional.length !== 1) throw new UsageError(positional.length ? 'give one FILE' : 'no input FILE given');
  const [file] = positional;
  if (typeof options.partner !== 'string') throw new UsageError('--partner is required');
  const format = (options.format ?? 'member-csv') as UploadFormat;
  if (!UPLOAD_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${UPLOAD_FORMATS.join(', ')}`);
  try {
    if (!statSync(file).isFile()) throw new Error();
  } catch {
    throw new UsageError(`cannot read ${file}: no such file`);
  }
  const checked = checkConfig(typeof options.config === 'string' ? options.config : undefined);
  if (!checked.ok) {
    io.stderr.write(`carebridge: invalid configuration\n${checked.problems.join('\n')}\n`);
    return 2;
  }
  const upload = { partner: options.partner, format, fileName: basename(file), localPath: file, sourceId: 'cli' };
  try {
    const report = options['dry-run'] ? await dryRunUpload(checked.config, upload) : await importUpload(checked.config, upload);
    io.stdout.write(formatReport(report).join('\n') + '\n');
    return report.status === 'failed' ? 1 : 0;
  } catch (e) {
    if (e instanceof UploadError || e instanceof ProfileError) {
      io.stderr.write(`carebridge import-members: ${e.message}\n`);
      return 2;
    }
    if (e instanceof MemberFileError) {
      io.stderr.write(`carebridge import-members: ${file}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
