import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SftpFileHandoff } from '../../../src/sources/sftp/types.js';

// The example ACO's member file both crash suites import: three members, two CPs.
const HEADER =
  'MEMBER_ID|LAST_NAME|FIRST_NAME|MIDDLE_NAME|DOB|GENDER|ADDRESS_1|ADDRESS_2|CITY|STATE|ZIP|PHONE|CP_ID|PCP_NPI|ASSIGNMENT_START|ASSIGNMENT_END|STATUS|ACO_MEMBER_ID|MRN|SSN|BH_CONSENT|SUD_CONSENT';
const row = (id: string, cp: string) =>
  `${id}|FAMILY${id.slice(-1)}|ANA||03/12/1979|F|45 ELM ST||BOSTON|MA|02110|6175550142|${cp}||01/01/2024||E|A-${id}|MRN${id}|||`;
export const ROSTER_FILE =
  [HEADER, row('MA100000001', 'example-cp'), row('MA100000002', 'other-cp'), row('MA100000003', 'example-cp')].join('\n') + '\n';

/** The member file written into `dir`, as the SFTP poller hands it over. */
export function rosterFile(dir: string): SftpFileHandoff {
  const localPath = join(dir, 'roster-20240601.txt');
  writeFileSync(localPath, ROSTER_FILE);
  return {
    localPath,
    remoteName: 'roster-20240601.txt',
    size: Buffer.byteLength(ROSTER_FILE),
    sha256: createHash('sha256').update(ROSTER_FILE).digest('hex'),
    partner: 'example-aco',
    sourceId: 'aco-roster',
    format: 'member-csv',
    remoteModifiedAt: new Date('2024-06-01T06:00:00Z'),
  };
}
