// The weekly status job: once a week (catching up on a missed week), each configured partner's status
// CSV is stored as a message and delivered to its destination. Once per partner and week.
import { idFromParts } from '../../fhir/ids.js';
import { statusBinary, STATUS_SOURCE, WEEK_TAG_SYSTEM } from '../outbound.js';
import { latestWeeklySlot, slotDate, WeeklyTimer } from '../weekly-schedule.js';
import { weeklyStatusCsv, weeklyStatusRows, type StatusPlan } from '../weekly-status.js';
import type { CarePlanContext } from './context.js';

export class WeeklyStatusJob {
  private timer: WeeklyTimer | undefined;

  constructor(private readonly ctx: CarePlanContext) {}

  /** Starts the weekly timer (when any file is configured), catching up on a missed week. */
  start(): void {
    const { weeklyStatus, timeZone } = this.ctx.deps.settings;
    if (this.timer || weeklyStatus.files.length === 0) return;
    this.timer = new WeeklyTimer(
      { weekday: weeklyStatus.weekday, time: weeklyStatus.time, timeZone },
      (slot) => this.runWeek(slot),
      this.ctx.now,
    );
    this.timer.start();
  }

  stop(): void {
    this.timer?.stop();
    this.timer = undefined;
  }

  /** The slot whose file is due by `now` (for status displays and tests). */
  currentSlot(now: Date = this.ctx.now()): Date {
    const { weeklyStatus, timeZone } = this.ctx.deps.settings;
    return latestWeeklySlot(now, { weekday: weeklyStatus.weekday, time: weeklyStatus.time, timeZone });
  }

  /** The weekly status CSV of a CP (columns in weekly-status.ts). */
  async csv(partnerId: string, now: Date = this.ctx.now()): Promise<string> {
    const { deps } = this.ctx;
    const plans: StatusPlan[] = [];
    const seenMembers = new Set<string>();
    for await (const r of this.ctx.all({ partner: partnerId, role: 'cp' })) {
      if (r.memberId) seenMembers.add(r.memberId);
      if (r.kind === 'cp-plan')
        plans.push({ ...r, created: r.resource.created, dueTimeZone: deps.settings.timeZoneOf(r.acoPartner ?? undefined) });
    }
    const members = deps.members ? await deps.members.membersOf(partnerId, deps.settings.localDate(now), 'cp') : seenMembers;
    return weeklyStatusCsv(weeklyStatusRows({ members, plans, now, timeZone: deps.settings.timeZone }));
  }

  /**
   * Stores this week's status file of a partner as a message and delivers it to the configured
   * destination. Once per partner and week (the slot's local date keys it).
   */
  async send(partnerId: string, slot: Date): Promise<string> {
    const week = slotDate(slot, this.ctx.deps.settings.timeZone);
    const csv = await this.csv(partnerId, slot);
    const binary = statusBinary(idFromParts(['careplan-status', partnerId, week]), partnerId, csv);
    binary.meta!.tag!.push({ system: WEEK_TAG_SYSTEM, code: week });
    const messageId = await this.ctx.send(
      {
        kind: 'careplan-status',
        key: { partnerId, week },
        input: {
          sourceKind: 'api',
          sourceName: STATUS_SOURCE,
          partnerId,
          sender: null,
          controlId: `${partnerId}-${week}`,
          messageType: 'CSV',
          triggerEvent: 'careplan-status',
          raw: Buffer.from(JSON.stringify(binary), 'utf8'),
        },
      },
      binary,
      undefined,
    );
    this.ctx.deps.log.info({ partner: partnerId, week, messageId }, 'weekly care-plan status file queued');
    return messageId;
  }

  private async runWeek(slot: Date): Promise<void> {
    const partners = [...new Set(this.ctx.deps.settings.weeklyStatus.files.map((f) => f.partner))];
    let failed = 0;
    for (const partner of partners) {
      try {
        await this.send(partner, slot);
      } catch (e) {
        failed++;
        this.ctx.deps.log.warn({ partner, err: (e as Error).message }, 'weekly care-plan status file failed');
      }
    }
    if (failed) throw new Error(`${failed} weekly status file(s) failed`);
  }
}
