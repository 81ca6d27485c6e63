import type { FastifyPluginAsync } from 'fastify';
import type { SftpSourceStatus } from '../../sources/sftp/types.js';
import { principalOf } from '../auth.js';
import { canSeePartner } from '../scope.js';
import { authErrors, SECURITY } from '../schemas.js';

// Per-partner file-arrival status of the SFTP sources: when the last file came, whether the
// expected daily file is missing (and since when), and the connection's health.

const nullableStr = { type: ['string', 'null'] } as const;
const statusSchema = {
  type: 'object',
  properties: {
    sourceId: { type: 'string' },
    partner: { type: 'string' },
    lastFileAt: nullableStr,
    missingSince: nullableStr,
    expectedBy: nullableStr,
    lastPollAt: nullableStr,
    lastSuccessAt: nullableStr,
    consecutiveFailures: { type: 'integer' },
    lastError: nullableStr,
    nextPollAt: nullableStr,
    waitingFiles: { type: 'integer' },
  },
} as const;

export function sourceRoutes(deps: { sftpStatus: () => SftpSourceStatus[] }): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/api/sources/files',
      {
        schema: {
          tags: ['sources'],
          summary: 'File-arrival status of each SFTP source (missing daily files included)',
          security: SECURITY,
          response: { 200: { type: 'object', properties: { items: { type: 'array', items: statusSchema } } }, ...authErrors },
        },
      },
      async (request) => {
        const who = principalOf(request);
        return { items: deps.sftpStatus().filter((s) => canSeePartner(who, s.partner)) };
      },
    );
  };
}
