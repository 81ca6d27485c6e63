import type { Account, Encounter, Identifier, Patient } from 'fhir/r4';
import { readCX, type Segment } from '../../src/hl7v2/index.js';
import { ref, type ConversionContext } from './context.js';
import { identifierFromCX, identifiersFromField } from './datatypes.js';
import type { EventRule } from './events.js';
import { MappingError, primaryIdentifier } from './patient.js';

const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

function cxList(ctx: ConversionContext, seg: Segment, field: number, where: string): Identifier[] {
  return identifiersFromField(ctx, seg, field, where);
}

/**
 * Applies what a merge, move or identifier-change event retires (per EventRule.retires) to one
 * patient group: the prior patient (MRG-1, else MRG-4, MRG-2 for A48), account (MRG-3) or visit
 * (MRG-5, MRG-6 for A51). See mappings/README.md "Merges and identifier changes".
 */
export function applyRetirements(
  ctx: ConversionContext,
  event: string,
  rule: EventRule,
  survivor: Patient,
  encounter: Encounter | undefined,
  onlyGroup: boolean,
): void {
  const mrg = ctx.segment('MRG');
  const retires = rule.retires ?? {};
  if (!mrg) {
    // A merge message that merges nothing is wrong data; one group without MRG among several is not.
    if (retires.patient && onlyGroup) throw new MappingError(`${event} without an MRG segment`, 'MRG');
    ctx.warn(`${event}: no MRG segment; nothing retired`);
    return;
  }
  if (retires.patient) retirePatient(ctx, event, mrg, survivor);
  if (retires.account) retireAccount(ctx, mrg, survivor);
  if (retires.visit) retireVisit(ctx, event, mrg, survivor, encounter);
}

/**
 * The prior identifier as a Patient with `active: false` and `link: replaced-by`; the survivor
 * gets `link: replaces`. When the prior identifier keys the survivor itself (only a secondary id
 * changed), the old identifier is kept on the survivor with `use: old` instead.
 */
function retirePatient(ctx: ConversionContext, event: string, mrg: Segment, survivor: Patient): void {
  let ids = cxList(ctx, mrg, event === 'A48' ? 2 : 1, 'MRG-1');
  if (ids.length === 0) ids = cxList(ctx, mrg, 4, 'MRG-4');
  const old = primaryIdentifier(ids);
  if (!old) throw new MappingError('MRG-1 (prior patient identifier) is empty', 'MRG-1');
  const retiredId = ctx.idFor('Patient', old.system!, old.value!);
  // A48 changes an alternate id only: the record is the same, the old id is kept as `old`.
  if (retiredId === survivor.id || event === 'A48') {
    const known = new Set((survivor.identifier ?? []).map((i) => `${i.system}|${i.value}`));
    const added = ids.filter((i) => !known.has(`${i.system}|${i.value}`)).map((i) => ({ ...i, use: 'old' as const }));
    if (added.length) survivor.identifier = [...(survivor.identifier ?? []), ...added];
    else ctx.warn('MRG-1 names the surviving patient itself; no link created');
    return;
  }
  const retired: Patient = {
    resourceType: 'Patient',
    id: retiredId,
    identifier: ids.map((i) => ({ ...i, use: 'old' as const })),
    extension: survivor.extension?.filter((e) => e.url === DATA_ABSENT),
    active: false,
    name: survivor.name,
    gender: survivor.gender,
    birthDate: survivor.birthDate,
    link: [{ other: ref(survivor), type: 'replaced-by' }],
  };
  survivor.link = [...(survivor.link ?? []), { other: { ...ref(retired), identifier: old }, type: 'replaces' }];
  ctx.add(retired);
}

/** The patient's account from PID-18 (IG PID[Account]), once per patient. */
export function accountFor(ctx: ConversionContext, patient: Patient): Account | undefined {
  const { seg, field } = ctx.locate('accountNumber');
  if (!seg) return undefined;
  const id = identifierFromCX(ctx, readCX(seg, field), 'PID-18');
  if (!id) return undefined;
  if (!id.type) id.type = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'AN' }] };
  return ctx.add<Account>({
    resourceType: 'Account',
    id: ctx.idFor('Account', id.system!, id.value!),
    identifier: [id],
    status: 'active',
    subject: [ref(patient)],
  });
}

/** MRG-3 prior account → an `inactive` Account naming the surviving one (PID-18) in its description. */
function retireAccount(ctx: ConversionContext, mrg: Segment, survivor: Patient): void {
  const old = identifierFromCX(ctx, readCX(mrg, 3), 'MRG-3');
  if (!old) {
    ctx.warn('MRG-3 (prior account number) is empty; no account retired');
    return;
  }
  const current = accountFor(ctx, survivor);
  const id = ctx.idFor('Account', old.system!, old.value!);
  if (current?.id === id) return;
  ctx.add<Account>({
    resourceType: 'Account',
    id,
    identifier: [{ ...old, use: 'old' }],
    status: 'inactive',
    subject: [ref(survivor)],
    description: current ? `replaced by account ${current.identifier![0].value}` : undefined,
  });
}

/**
 * MRG-5 prior visit (MRG-6 for A51) → that Encounter `entered-in-error` (the visit lives on under
 * the new number); the survivor Encounter keeps the old number as an `old` identifier.
 */
function retireVisit(ctx: ConversionContext, event: string, mrg: Segment, survivor: Patient, encounter: Encounter | undefined): void {
  const field = event === 'A51' ? 6 : 5;
  const old = identifierFromCX(ctx, readCX(mrg, field), `MRG-${field}`);
  if (!old) {
    ctx.warn(`MRG-${field} (prior visit number) is empty; no visit retired`);
    return;
  }
  if (!old.type) old.type = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'VN' }] };
  const id = ctx.idFor('Encounter', old.system!, old.value!);
  if (encounter?.id === id) return;
  if (encounter) encounter.identifier = [...(encounter.identifier ?? []), { ...old, use: 'old' }];
  ctx.add<Encounter>({
    resourceType: 'Encounter',
    id,
    identifier: [{ ...old, use: 'old' }],
    status: 'entered-in-error',
    class: encounter?.class ?? { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'UNK', display: 'unknown' },
    subject: ref(survivor),
  });
}

/** A24: the two patients are the same person → `seealso` links both ways. A37 sends them unlinked. */
export function linkPatients(a: Patient, b: Patient): void {
  if (a.id === b.id) return;
  a.link = [...(a.link ?? []), { other: ref(b), type: 'seealso' }];
  b.link = [...(b.link ?? []), { other: ref(a), type: 'seealso' }];
}
