import { describe, expect, it } from 'vitest';
import { sftpFileFor } from '../../../../src/delivery/deliverers/sftp.js';

describe('SFTP drop file names and content', () => {
  const id = '01HZX3K9V7Q2W8M4N6P0R5T1Y3';

  it('a file payload keeps its name with the delivery id before the extension', () => {
    const f = sftpFileFor(JSON.stringify({ fileName: 'careplan-status-bay-cp-2024-06-03.csv', content: 'a,b\r\n1,2\r\n' }), id);
    expect(f).toEqual({ name: `careplan-status-bay-cp-2024-06-03.${id}.csv`, content: Buffer.from('a,b\r\n1,2\r\n') });
  });

  it('names cannot leave the folder or hide', () => {
    expect(sftpFileFor({ fileName: '../../etc/passwd', content: 'x' }, id)).toMatchObject({ name: `passwd.${id}` });
    expect(sftpFileFor({ fileName: '.profile', content: 'x' }, id)).toMatchObject({ name: `profile.${id}` });
    expect(sftpFileFor({ fileName: 'a b;c.json', content: 'x' }, id)).toMatchObject({ name: `a_b_c.${id}.json` });
  });

  it('other payloads: JSON, HL7 v2, text', () => {
    expect(sftpFileFor('{"resourceType":"Bundle"}', id)).toEqual({
      name: `carebridge-${id}.json`,
      content: Buffer.from('{"resourceType":"Bundle"}'),
    });
    expect(sftpFileFor({ resourceType: 'Bundle' }, id)).toMatchObject({ name: `carebridge-${id}.json` });
    expect(sftpFileFor(Buffer.from('MSH|^~\\&|A\r'), id)).toMatchObject({ name: `carebridge-${id}.hl7` });
    expect(sftpFileFor('hello', id)).toMatchObject({ name: `carebridge-${id}.txt` });
    expect(sftpFileFor(42, id)).toEqual({ error: 'SFTP payload must be text, bytes or JSON' });
  });

  it('the same delivery always gets the same name (retries overwrite nothing else)', () => {
    const p = JSON.stringify({ fileName: 'x.csv', content: 'c' });
    expect(sftpFileFor(p, id)).toEqual(sftpFileFor(p, id));
    expect(sftpFileFor(p, 'other')).not.toEqual(sftpFileFor(p, id));
  });
});
