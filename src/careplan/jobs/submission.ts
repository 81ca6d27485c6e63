// A CP's care plan (API or CSV): checked, matched to its roster member, stored pending sign-off and
// routed to the member's ACO (and the PCP's organization, when a partner lists the member's PCP).
import type { MemberIdentifier } from '../../roster/types.js';
import { addBusinessDays, addCalendarDays, type DueDay } from '../business-days.js';
import { CarePlanError } from '../errors.js';
import { instantMillis } from '../local-date.js';
import { SUBMISSION_SOURCE } from '../outbound.js';
import type { CarePlanRecord } from '../store/types.js';
import { checkSubmission, contentHash, MEMBER_ID_SYSTEM, normalizeSubmission } from '../submission.js';
import type { CarePlanContext } from './context.js';

export interface SubmitOptions {
  /** How the plan came in; default api. */
  channel?: 'api' | 'sftp';
}

export interface SubmitResult {
  record: CarePlanRecord;
  outcome: 'created' | 'revised' | 'unchanged';
  /** The message routing this version to the ACO. */
  messageId: string;
}

/**
 * A resubmission with the same content changes nothing; a changed one is a new version, back to
 * pending.
 */
export async function submitCarePlan(
  ctx: CarePlanContext,
  partnerId: string,
  resource: unknown,
  options: SubmitOptions = {},
): Promise<SubmitResult> {
  const { deps } = ctx;
  const partner = deps.partners[partnerId];
  if (!partner) throw new CarePlanError('forbidden', `unknown partner '${partnerId}'`);
  if (partner.kind !== 'cp') throw new CarePlanError('forbidden', `partner '${partnerId}' is not a community partner (kind cp)`);
  const check = checkSubmission(resource);
  if (!check.ok) throw new CarePlanError('invalid', 'the care plan is not acceptable', check.issues);
  const { memberId, acoPartner, pcpPartner } = await routeMember(ctx, partnerId, check.memberIdentifiers);
  const hash = contentHash(check.plan);
  let outcome: SubmitResult['outcome'] = 'unchanged';
  const nowInstant = ctx.instant();
  const draft = normalizeSubmission(check.plan, { cpPartnerId: partnerId, cpName: partner.name, now: nowInstant });
  const { record } = await ctx.mutate(draft.id!, async (existing) => {
    if (existing && existing.kind !== 'cp-plan') throw new CarePlanError('conflict', 'the id belongs to another kind of care plan');
    if (existing && existing.contentHash === hash && existing.acoPartner === acoPartner && existing.pcpPartner === pcpPartner)
      return undefined;
    outcome = existing ? 'revised' : 'created';
    const plan = existing && check.plan.created === undefined ? { ...draft, created: existing.resource.created ?? nowInstant } : draft;
    const signoffDue = signoffDueDay(ctx, ctx.now(), acoPartner);
    return {
      write: {
        id: draft.id!,
        kind: 'cp-plan',
        memberId,
        cpPartner: partnerId,
        acoPartner,
        pcpPartner,
        encounterRef: null,
        status: plan.status,
        signoff: 'pending',
        dueAt: new Date(instantMillis(signoffDue.dueAt)!),
        createdAt: existing?.createdAt ?? ctx.now(),
        completedAt: null,
        resource: plan,
        contentHash: hash,
        lastMessageId: existing?.lastMessageId ?? null,
      },
    };
  });
  if (outcome === 'unchanged' && record.lastMessageId) {
    await ctx.redispatchIfUnfinished(record.lastMessageId);
    return { record, outcome, messageId: record.lastMessageId };
  }
  const messageId = await ctx.send(
    {
      kind: 'careplan-submission',
      key: { carePlanId: record.id, version: record.version },
      input: {
        sourceKind: options.channel === 'sftp' ? 'sftp' : 'api',
        sourceName: SUBMISSION_SOURCE,
        partnerId,
        sender: partnerId,
        controlId: record.id,
        messageType: 'FHIR',
        triggerEvent: 'CarePlan',
        raw: Buffer.from(JSON.stringify(record.resource), 'utf8'),
        identifiers: check.memberIdentifiers,
      },
    },
    record.resource,
    record,
  );
  deps.log.info(
    { carePlanId: record.id, cp: partnerId, aco: acoPartner, pcpOrganization: pcpPartner, version: record.version, outcome },
    'care plan submitted',
  );
  return { record: { ...record, lastMessageId: messageId }, outcome, messageId };
}

/**
 * When a plan submitted (or revised) at `from` must be signed: `unsignedDays` calendar days later
 * in the calendar of the ACO, which signs every CP plan (a PCP's organization may sign too, but is
 * optional and may change with a revision, so its calendar would move the deadline). A due date on a
 * weekend day or holiday of that calendar moves to its next business day: nobody is there to sign.
 */
function signoffDueDay(ctx: CarePlanContext, from: Date, acoPartner: string): DueDay {
  const { settings } = ctx.deps;
  const plain = addCalendarDays(from, settings.unsignedDays, settings.timeZoneOf(acoPartner));
  return addBusinessDays(plain.dueDate, 0, settings.calendarAround(plain.dueDate, acoPartner));
}

/**
 * The member's roster id, checked to be this CP's member today, the ACO it goes to, and the PCP's
 * organization when the member's PCP today is listed by a partner (other than that ACO).
 */
async function routeMember(
  ctx: CarePlanContext,
  cpPartnerId: string,
  identifiers: MemberIdentifier[],
): Promise<{ memberId: string; acoPartner: string; pcpPartner: string | null }> {
  const roster = ctx.deps.roster;
  if (!roster) throw new CarePlanError('unprocessable', 'no roster is configured: care plans cannot be matched to members');
  // The roster member id needs no matching; an unknown one is attributed to nobody (refused below).
  const direct = identifiers.find((i) => i.system === MEMBER_ID_SYSTEM)?.value;
  let memberId = direct;
  if (!memberId) {
    const match = await roster.resolve({ identifiers });
    if (match.kind !== 'matched') throw new CarePlanError('unprocessable', 'the care plan subject is not a member on the roster');
    memberId = match.member.memberId;
  }
  const today = ctx.deps.settings.localDate(ctx.now());
  const cps = await roster.attributedOn(memberId, today, 'cp');
  if (!cps.includes(cpPartnerId)) {
    // A member id taken as is may name nobody: the roster has no attribution for it either way.
    throw new CarePlanError(
      'unprocessable',
      `the member is ${direct ? 'not on the roster or ' : ''}not attributed to ${cpPartnerId} today`,
    );
  }
  const acos = [...(await roster.attributedOn(memberId, today, 'aco'))].sort();
  if (acos.length === 0) throw new CarePlanError('unprocessable', 'the member has no ACO attributed today: nobody to sign the care plan');
  if (acos.length > 1)
    ctx.deps.log.warn({ cp: cpPartnerId, acos }, 'member attributed to several ACOs today; the care plan goes to the first');
  const acoPartner = acos[0]!;
  return { memberId, acoPartner, pcpPartner: await pcpOrganizationOf(ctx, memberId, today, acoPartner) };
}

/**
 * The partner listing the member's PCP (roster attribution role pcp on `date`) in its pcpNpis;
 * null when there is none or it is the ACO itself. Only the roster counts, not a PCP the plan
 * names: a CP must not be able to send a member's plan to an organization of its choosing.
 */
async function pcpOrganizationOf(ctx: CarePlanContext, memberId: string, date: string, acoPartner: string): Promise<string | null> {
  const { pcpOrganizations, deps } = ctx;
  if (pcpOrganizations.size === 0 || !deps.members?.attributionHistory) return null;
  const history = await deps.members.attributionHistory(memberId);
  const organizations = [
    ...new Set(
      history
        .filter((a) => a.role === 'pcp' && a.start <= date && (a.end === undefined || a.end >= date))
        .map((a) => pcpOrganizations.get(a.partnerId))
        .filter((p): p is string => p !== undefined && p !== acoPartner),
    ),
  ].sort();
  if (organizations.length > 1) {
    deps.log.warn(
      { aco: acoPartner, organizations },
      "member's PCPs today belong to several organizations; the care plan goes to the first",
    );
  }
  return organizations[0] ?? null;
}
