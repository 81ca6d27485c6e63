import { useState } from 'preact/hooks';
import { get, post, qs, type Session } from '../api.js';
import { PartnerPicker, usePartner } from '../partner-picker.js';
import { Badge, DataTable, ErrorBox, Notice, PageHeader, Pager, Segmented, useLoad, usePager, when } from '../ui.js';

interface Item {
  messageId: string;
  kind: 'admit' | 'ed-visit' | 'discharge' | 'transfer';
  event: string;
  at: string;
  patient: { name: string; birthDate: string | null; memberIds: string[] };
  facility: string | null;
  carePlanId: string | null;
  dueDate: string;
  businessDays: number;
  state: 'due' | 'overdue' | 'done';
  done: { at: string; by: string; contactedBy: string | null } | null;
}

const KIND: Record<Item['kind'], string> = { admit: 'Admission', 'ed-visit': 'ED visit', discharge: 'Discharge', transfer: 'Transfer' };
const FILTERS = [
  ['all', 'All'],
  ['open', 'Due'],
  ['overdue', 'Overdue'],
  ['done', 'Done'],
] as const;

export function WorklistPage(props: { session: Session }) {
  const [partner, setPartner] = usePartner(props.session);
  const [state, setState] = useState<(typeof FILTERS)[number][0]>('all');
  const [contactedBy, setContactedBy] = useState('');
  const pager = usePager();
  const list = useLoad(
    () =>
      partner
        ? get<{ items: Item[]; next: string | null }>(`/api/worklist${qs({ partner, state, limit: 50, cursor: pager.cursor })}`)
        : Promise.resolve({ items: [], next: null }),
    [partner, state, pager.cursor],
    pager.page === 1 ? 15_000 : undefined,
  );
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const markDone = async (item: Item) => {
    setError(undefined);
    try {
      await post(
        `/api/worklist/${encodeURIComponent(item.messageId)}/follow-up${qs({ partner })}`,
        contactedBy.trim() ? { contactedBy: contactedBy.trim() } : {},
      );
      setNotice(`Follow-up recorded for ${item.patient.name}.`);
      await list.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <PageHeader title="Worklist">
        <PartnerPicker session={props.session} partner={partner} onChange={(p) => (setPartner(p), pager.reset())} />
      </PageHeader>
      <div class="toolbar">
        <Segmented label="filter" options={FILTERS} value={state} onChange={(v) => (setState(v), pager.reset())} />
        <label class="inline">
          Contact made by{' '}
          <input value={contactedBy} onInput={(e) => setContactedBy(e.currentTarget.value)} placeholder="your name" maxLength={100} />
        </label>
      </div>
      <p class="muted small">
        Follow-ups are due in business days: an ED visit the same day, an admission or transfer the next, a discharge within the
        transition-of-care window.
      </p>
      <Notice text={notice} />
      <ErrorBox error={error ?? list.error} />
      <DataTable
        class="worklist"
        columns={['Event', 'When', 'Member', 'Facility', 'Follow-up due', 'Status', 'Action']}
        items={list.data?.items}
        empty="No events for this filter."
        row={(i) => (
          <tr key={i.messageId} class={i.state === 'overdue' ? 'row-bad' : undefined}>
            <td>
              <strong>{KIND[i.kind]}</strong> <span class="muted small">{i.event}</span>
            </td>
            <td>{when(i.at)}</td>
            <td>
              <span class="member-name">{i.patient.name}</span>
              <div class="muted small">
                {i.patient.birthDate ? `born ${i.patient.birthDate}` : ''} {i.patient.memberIds.join(', ')}
              </div>
            </td>
            <td class="mono small">{i.facility ?? '—'}</td>
            <td>
              {i.dueDate}
              <div class="muted small">
                {i.businessDays} business day{i.businessDays === 1 ? '' : 's'}
              </div>
            </td>
            <td>
              <Badge value={i.state} />
              {i.done && (
                <div class="muted small">
                  {when(i.done.at)} by {i.done.contactedBy ? `${i.done.contactedBy} (${i.done.by})` : i.done.by}
                </div>
              )}
            </td>
            <td>
              {!i.done && props.session.role !== 'operator' && (
                <button type="button" class="small" onClick={() => markDone(i)}>
                  Mark contacted
                </button>
              )}
            </td>
          </tr>
        )}
      />
      <Pager pager={pager} next={list.data?.next} />
    </>
  );
}
