/**
 * The demo's simulated hospital: every few seconds an ADT message from "Example General Hospital"
 * (sender EPICADT^MGH, the demo ACO's feed) over MLLP, cycling through what a CP cares about:
 * inpatient admissions and discharges, ED visits, a behavioral-health discharge (withheld from a
 * CP without the member's consent) and patients who are on no roster (unmatched). Every name,
 * date and id is synthetic: the patients are the demo roster's invented members.
 */
import { MllpClient } from '../mllp/client.js';
import { parseAck } from '../delivery/mllp-ack.js';
import type { Logger } from '../observability/log.js';

export interface DemoPatient {
  mrn: string;
  /** MassHealth-shaped member id (the roster key); absent for patients on no roster. */
  memberId?: string;
  family: string;
  given: string;
  birthDate: string;
  sex: 'F' | 'M';
}

/** The demo roster's members (fixtures/demo/example-aco-members.txt), as the hospital knows them. */
export const DEMO_MEMBERS: DemoPatient[] = [
  ['BRIGHTWATER', 'AVA', '19610314', 'F'],
  ['CALLOWAY', 'MARCUS', '19750702', 'M'],
  ['DELACROIX', 'NINA', '19831123', 'F'],
  ['EVERLY', 'SAMUEL', '19580130', 'M'],
  ['FAIRBANKS', 'LUCIA', '19900509', 'F'],
  ['GREENLEAF', 'OMAR', '19690917', 'M'],
  ['HOLLIS', 'GRACE', '19491201', 'F'],
  ['INGRAM', 'TOBIAS', '19870426', 'M'],
  ['JUNIPER', 'ROSA', '19720808', 'F'],
  ['KESTREL', 'DANIEL', '19950219', 'M'],
].map(([family, given, birthDate, sex], i) => ({
  mrn: `DEMO${String(i + 1).padStart(5, '0')}`,
  memberId: `MA9000000${String(i + 1).padStart(2, '0')}`,
  family,
  given,
  birthDate,
  sex: sex as 'F' | 'M',
}));

/** Walk-ins the ACO does not cover: their events match no roster member. */
export const DEMO_NON_MEMBERS: DemoPatient[] = [
  { mrn: 'DEMO90001', family: 'LOCKWOOD', given: 'IRIS', birthDate: '19800615', sex: 'F' },
  { mrn: 'DEMO90002', family: 'MERRIWEATHER', given: 'FELIX', birthDate: '19661104', sex: 'M' },
];

/** Members of the CP whose roster has no consent column: a behavioral-health event is withheld from it. */
const WITHOUT_CONSENT = DEMO_MEMBERS.filter((_, i) => i % 2 === 1);

type Step = {
  event: 'A01' | 'A03' | 'A04' | 'A08';
  patientClass: 'I' | 'E';
  service: string;
  discharged: boolean;
  patient: DemoPatient;
  what: string;
};

/** The i-th message of the cycle; patients rotate so each cycle tells new stories. */
export function demoStep(i: number): Step {
  const round = Math.floor(i / 8);
  const member = (k: number) => DEMO_MEMBERS[(round * 3 + k) % DEMO_MEMBERS.length];
  switch (i % 8) {
    case 0:
      return { event: 'A01', patientClass: 'I', service: 'MED', discharged: false, patient: member(0), what: 'inpatient admission' };
    case 1:
      return { event: 'A04', patientClass: 'E', service: 'EMR', discharged: false, patient: member(1), what: 'ED visit' };
    case 2:
      return { event: 'A03', patientClass: 'I', service: 'MED', discharged: true, patient: member(0), what: 'inpatient discharge' };
    case 3:
      return { event: 'A03', patientClass: 'E', service: 'EMR', discharged: true, patient: member(1), what: 'ED discharge' };
    case 4:
      return {
        event: 'A01',
        patientClass: 'I',
        service: 'MED',
        discharged: false,
        patient: DEMO_NON_MEMBERS[round % 2],
        what: 'admission of a patient on no roster',
      };
    case 5:
      return {
        event: 'A03',
        patientClass: 'I',
        service: 'PSY',
        discharged: true,
        patient: WITHOUT_CONSENT[round % WITHOUT_CONSENT.length],
        what: 'behavioral-health discharge, no consent on file',
      };
    case 6:
      return { event: 'A08', patientClass: 'I', service: 'MED', discharged: false, patient: member(2), what: 'patient information update' };
    default:
      return {
        event: 'A04',
        patientClass: 'E',
        service: 'EMR',
        discharged: false,
        patient: DEMO_NON_MEMBERS[(round + 1) % 2],
        what: 'ED visit of a patient on no roster',
      };
  }
}

/** A PV1 segment from field number → value (fields are easy to miscount by hand). */
function pv1(fields: Record<number, string | undefined>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  return ['PV1', ...Array.from({ length: last }, (_, i) => fields[i + 1] ?? '')].join('|');
}

const ts = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** One ER7 message (CR-separated) for a step, stamped `at`. */
export function demoMessage(step: Step, controlId: string, at: Date): string {
  const p = step.patient;
  const now = ts(at);
  const admitted = ts(new Date(at.getTime() - (step.patientClass === 'E' ? 4 : 72) * 3600_000));
  const visit = `V${p.mrn.slice(4)}${step.patientClass}${at.toISOString().slice(0, 10).replace(/-/g, '')}`;
  const ids = [`${p.mrn}^^^MGH^MR`, ...(p.memberId ? [`${p.memberId}^^^MAMH^MA`] : [])].join('~');
  const location = step.patientClass === 'E' ? 'ED^BAY2^01^MGH' : step.service === 'PSY' ? '7W^712^A^MGH' : '4N^401^A^MGH';
  const structure = step.event === 'A03' ? 'ADT_A03' : step.event === 'A08' ? 'ADT_A01' : 'ADT_A01';
  return (
    [
      `MSH|^~\\&|EPICADT|MGH|CAREBRIDGE|DEMO|${now}||ADT^${step.event}^${structure}|${controlId}|P|2.5.1`,
      `EVN|${step.event}|${now}`,
      `PID|1||${ids}||${p.family}^${p.given}^^^^^L||${p.birthDate}|${p.sex}|||1 DEMO WAY^^SPRINGFIELD^MA^01103^USA^H||^PRN^PH^^1^555^0100000`,
      pv1({
        1: '1',
        2: step.patientClass,
        3: location,
        4: step.patientClass === 'E' ? 'E' : 'R',
        7: '1234567893^DEMODOC^PAT^^^DR^^^NPI',
        10: step.service,
        19: `${visit}^^^MGH^VN`,
        44: admitted,
        ...(step.discharged && { 45: now }),
      }),
    ].join('\r') + '\r'
  );
}

export interface DemoFeedOptions {
  host: string;
  port: number;
  intervalMs: number;
  log: Logger;
}

/** Sends one message per interval until stopped; a failed send is logged and the feed goes on. */
export function startDemoFeed(options: DemoFeedOptions): { stop(): Promise<void> } {
  const client = new MllpClient({ host: options.host, port: options.port, ackTimeoutMs: 10_000 });
  const run = Date.now().toString(36).toUpperCase();
  let i = 0;
  let stopped = false;
  let sending: Promise<void> = Promise.resolve();
  const tick = (): void => {
    const step = demoStep(i);
    const controlId = `DEMO${run}-${String(++i).padStart(4, '0')}`;
    sending = client
      .send(Buffer.from(demoMessage(step, controlId, new Date()), 'latin1'))
      .then((ack) =>
        options.log.info(
          { controlId, event: step.event, scenario: step.what, ack: parseAck(ack.toString('latin1'))?.code },
          'demo feed: hospital message sent',
        ),
      )
      .catch((e: Error) => options.log.warn({ controlId, err: e.message }, 'demo feed: message not sent'));
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
  }, options.intervalMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await sending;
      await client.close();
    },
  };
}
