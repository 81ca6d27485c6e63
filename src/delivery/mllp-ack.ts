/**
 * Just enough HL7 v2 to judge an acknowledgment: MSA-1/MSA-2/MSA-3 and the HL7 error codes of ERR
 * segments, by plain string splitting with the separators the ACK's own MSH declares. The full
 * parser lives in src/hl7v2; delivery must not depend on it.
 */
export interface ParsedAck {
  /** MSA-1: AA, AE, AR, CA, CE, CR (upper-cased). */
  code: string;
  /** MSA-2: control id of the acknowledged message. */
  controlId?: string;
  /** MSA-3: free text (may contain PHI; do not log at info). */
  text?: string;
  /** HL7 table 0357 codes from ERR-3 (v2.5+) or ERR-1.4 (v2.3/2.4). */
  errorCodes: string[];
}

const SEGMENT_SPLIT = /\r\n|\r|\n/;

export function parseAck(ack: string): ParsedAck | undefined {
  const segments = ack
    .replace(/^\uFEFF/, '')
    .split(SEGMENT_SPLIT)
    .filter((s) => s.length > 0);
  const msh = segments.find((s) => s.startsWith('MSH'));
  const field = msh && msh.length > 3 ? msh[3] : '|';
  const component = msh && msh.length > 4 ? msh[4] : '^';
  const subcomponent = msh && msh.length > 7 ? msh[7] : '&';
  const msa = segments.find((s) => s.startsWith(`MSA${field}`));
  if (!msa) return undefined;
  const fields = msa.split(field);
  const errorCodes: string[] = [];
  for (const err of segments.filter((s) => s.startsWith(`ERR${field}`))) {
    const errFields = err.split(field);
    const v25 = errFields[3]?.split(component)[0];
    const v23 = errFields[1]?.split(component)[3]?.split(subcomponent)[0];
    for (const code of [v25, v23]) if (code) errorCodes.push(code);
  }
  return {
    code: (fields[1] ?? '').split(component)[0].trim().toUpperCase(),
    controlId: fields[2] || undefined,
    text: fields[3] || undefined,
    errorCodes,
  };
}

/** MSH-10 of an outgoing message, to check the ACK answers this message and not another. */
export function controlIdOf(message: string): string | undefined {
  const msh = message
    .replace(/^\uFEFF/, '')
    .split(SEGMENT_SPLIT)
    .find((s) => s.startsWith('MSH'));
  if (!msh || msh.length < 4) return undefined;
  return msh.split(msh[3])[9] || undefined;
}
