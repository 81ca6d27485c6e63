import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { formatKeyPath } from '../../../src/config/errors.js';
import { referenceProblems } from '../../../src/config/reference-checks.js';
import { partnerWiringProblems, routeWiringProblems } from '../../../src/config/wiring-checks.js';
import { baseConfig, tempConfigDir, type TempConfigDir } from './config-fixture.js';

type Doc = Record<string, any>;

const sftpDrop = {
  id: 'cp-drop',
  type: 'sftp',
  host: '127.0.0.1',
  username: 'u',
  privateKeyEnv: 'DROP_KEY',
  hostKeySha256: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
  remoteDir: 'in',
};
const fhirServer = { id: 'cp-fhir', type: 'fhir', baseUrl: 'https://fhir.example.org' };
const davinci = { id: 'aco-msg', type: 'fhir-messaging', baseUrl: 'https://aco.example.org/fhir' };
const forward = { id: 'hie', type: 'mllp', host: '127.0.0.1', port: 2575 };

describe('a destination wired to a payload its type does not take is refused, at its key', () => {
  let tmp: TempConfigDir;
  let n = 0;
  beforeAll(() => {
    tmp = tempConfigDir();
  });
  afterAll(() => tmp.cleanup());

  const load = (mutate: (d: Doc) => void) => {
    const doc = baseConfig();
    doc.destinations.push(sftpDrop, fhirServer, davinci, forward);
    mutate(doc);
    return loadConfig(tmp.config(doc, `wiring-${n++}.yaml`), { DROP_KEY: 'k' });
  };
  const loadError = (mutate: (d: Doc) => void): string[] => {
    try {
      load(mutate);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message.split('\n');
    }
    throw new Error('the config loaded');
  };

  it('routes: raw HL7 v2 to a FHIR server or Da Vinci endpoint (at load, like every cross-key problem)', () => {
    const lines = loadError((d) => {
      d.routes[0] = {
        id: 'raw-labs',
        match: { messageTypes: ['ORU'] },
        to: ['hook', 'cp-fhir', 'hie', 'cp-drop', 'aco-msg'],
        payload: 'raw',
      };
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /routes\[0\]\.to\[1\]: payload raw cannot go to fhir destination 'cp-fhir' \(it does not take raw HL7 v2: use a webhook, mllp or sftp destination\)$/,
      ),
      expect.stringMatching(/routes\[0\]\.to\[4\]: payload raw cannot go to fhir-messaging destination 'aco-msg'/),
    ]);
  });

  it('routes: FHIR to every type, an MLLP forward included (it sends the raw message)', () => {
    const config = load((d) => void (d.routes[0].to = ['hook', 'cp-fhir', 'hie', 'cp-drop', 'aco-msg']));
    expect(routeWiringProblems(config)).toEqual([]);
  });

  it('partners and status files: care plans, roster notices, status files, attributed raw events', () => {
    const config = load((d) => {
      d.partners['cp-one'].destinations = { adt: 'cp-fhir', careplan: 'hie', members: 'cp-drop' };
      d.partners.acme.destinations = { careplan: 'cp-drop', members: 'cp-fhir' };
      d.routes.push({ id: 'raw-to-cp', match: { messageTypes: ['ORU'] }, toAttributed: 'cp', payload: 'raw' });
      d.routes.push({ id: 'raw-to-cp-2', match: { messageTypes: ['MDM'] }, toAttributed: 'cp', payload: 'raw' });
      d.careplans = {
        weeklyStatus: {
          weekday: 'monday',
          time: '06:00',
          files: [
            { partner: 'cp-one', destination: 'cp-drop' },
            { partner: 'acme', destination: 'aco-msg' },
          ],
        },
      };
    });
    expect(partnerWiringProblems(config).map((p) => `${formatKeyPath(p.path)}: ${p.problem}`)).toEqual([
      "partners.cp-one.destinations.careplan: destination 'hie' (mllp) cannot carry care plans: use a webhook, fhir or sftp destination",
      "partners.cp-one.destinations.members: destination 'cp-drop' (sftp) cannot carry roster notices: use a webhook or fhir destination",
      "partners.cp-one.destinations.adt: destination 'cp-fhir' (fhir) cannot carry raw HL7 v2 (routes[1] sends it to the attributed cp): use a webhook, mllp or sftp destination",
      "careplans.weeklyStatus.files[1].destination: destination 'aco-msg' (fhir-messaging) cannot carry a status file: use a webhook, fhir or sftp destination",
    ]);
    // `carebridge check` and `start` print them with the file and the formatted key.
    const problems = referenceProblems(config);
    expect(problems).toContain(
      `${config.configFile}: careplans.weeklyStatus.files[1].destination: destination 'aco-msg' (fhir-messaging) cannot carry a status file: use a webhook, fhir or sftp destination`,
    );
    expect(problems.filter((p) => p.includes('cannot carry'))).toHaveLength(4);
  });

  it('the base config and every type in its place pass', () => {
    const config = load((d) => {
      d.partners['cp-one'].destinations = { adt: 'hie', careplan: 'cp-drop', members: 'cp-fhir' };
      d.routes.push({ id: 'raw-to-cp', match: { messageTypes: ['ORU'] }, toAttributed: 'cp', payload: 'raw' });
      d.careplans = { weeklyStatus: { weekday: 'monday', time: '06:00', files: [{ partner: 'cp-one', destination: 'hook' }] } };
    });
    expect(routeWiringProblems(config)).toEqual([]);
    expect(partnerWiringProblems(config)).toEqual([]);
  });
});
