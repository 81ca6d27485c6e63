import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { MemberImportReport, MemberUpload } from '../../ingest/member-upload.js';
import { UPLOAD_FORMATS, UploadError } from '../../ingest/member-upload.js';
import { ProfileError } from '../../mapping/profile-loader.js';
import { ApiError, forbidden } from '../api-error.js';
import { auditApiCall } from '../audit.js';
import { principalOf } from '../auth.js';
import { outcomeRef } from '../operation-outcome.js';
import { canSeePartner } from '../scope.js';
import { authErrors, SECURITY } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { importCountsProperties, importIssueSchema } from './roster.js';

/** What the gateway does with an uploaded member file (the same import as a polled file's). */
export interface MemberUploads {
  run(upload: MemberUpload, dryRun: boolean): Promise<MemberImportReport>;
}

const UPLOAD_TYPES = [
  'text/csv',
  'text/plain',
  'application/octet-stream',
  'application/edi-x12',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
];

const str = { type: 'string' } as const;
const reportSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['applied', 'duplicate', 'failed', 'dry-run'] },
    importId: { type: ['string', 'null'], description: 'null for a dry run' },
    duplicateOf: str,
    ...importCountsProperties,
    error: { ...str, description: 'Why the file could not be read (no values)' },
    issues: {
      type: 'array',
      description: 'Row errors and file warnings with line numbers (first 1000)',
      items: importIssueSchema,
    },
    changes: {
      type: 'array',
      description: 'Roster changes (first 1000)',
      items: {
        type: 'object',
        properties: {
          memberId: str,
          kind: { type: 'string', enum: ['added', 'changed', 'terminated'] },
          detail: { type: 'object', additionalProperties: true },
        },
      },
    },
  },
} as const;

/**
 * POST /api/roster/imports: a member file uploaded as the request body, read with the partner's
 * layout and imported exactly as a file from its SFTP or folder source (idempotent by partner +
 * name + content; notices and late routing follow); `dryRun=true` answers what it would change.
 */
export function rosterImportRoutes(deps: Pick<ApiDeps, 'store'> & { uploads: MemberUploads }): FastifyPluginAsync {
  return async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(UPLOAD_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post(
      '/api/roster/imports',
      {
        schema: {
          summary: 'Import a member (roster) file, or show what it would change (dryRun)',
          tags: ['roster'],
          security: SECURITY,
          consumes: UPLOAD_TYPES,
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['partner', 'fileName'],
            properties: {
              partner: {
                type: 'string',
                minLength: 1,
                maxLength: 100,
                description: 'The partner whose file this is (its layout reads it)',
              },
              fileName: {
                type: 'string',
                minLength: 1,
                maxLength: 255,
                pattern: '^[^/\\\\]+$',
                description: 'With partner and content, the idempotency key',
              },
              format: { type: 'string', enum: [...UPLOAD_FORMATS], default: 'member-csv' },
              dryRun: { type: 'boolean', default: false },
            },
          },
          body: { description: 'The file as is' },
          response: {
            ...authErrors,
            200: reportSchema,
            403: outcomeRef,
            422: { ...reportSchema, description: 'The file could not be read; nothing applied' },
          },
        },
      },
      async (request, reply) => {
        const who = principalOf(request);
        const q = request.query as { partner: string; fileName: string; format: MemberUpload['format']; dryRun: boolean };
        if (!canSeePartner(who, q.partner)) throw forbidden("importing a member file needs an admin key or a key of the file's partner");
        const body = request.body as Buffer | undefined;
        if (!body || body.length === 0) throw new ApiError(400, 'invalid', 'request body is empty');
        // Member files hold PHI: a private folder, removed when the import is done.
        const dir = await mkdtemp(join(tmpdir(), 'carebridge-upload-'));
        try {
          const localPath = join(dir, randomBytes(8).toString('hex'));
          await writeFile(localPath, body, { mode: 0o600 });
          let report: MemberImportReport;
          try {
            report = await deps.uploads.run(
              { partner: q.partner, format: q.format, fileName: q.fileName, localPath, sourceId: 'api' },
              q.dryRun,
            );
          } catch (e) {
            if (e instanceof UploadError || e instanceof ProfileError) throw new ApiError(400, 'invalid', e.message);
            throw e;
          }
          if (!q.dryRun) {
            await auditApiCall(deps.store, request, who, {
              action: 'api.roster.import',
              subjectType: 'roster-import',
              subjectId: report.importId ?? '',
              detail: { partnerId: q.partner, status: report.status, rows: report.rows, errors: report.errors },
            });
          }
          return reply.code(report.status === 'failed' ? 422 : 200).send(report);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  };
}
