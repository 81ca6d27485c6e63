import { useState } from 'preact/hooks';
import { download, get, qs, type Session } from '../api.js';
import { PartnerPicker, usePartner } from '../partner-picker.js';
import { Badge, DataTable, ErrorBox, PageHeader, Pager, Segmented, useLoad, usePager, when } from '../ui.js';

interface Plan {
  id: string;
  kind: string;
  memberId: string | null;
  cpPartner: string;
  acoPartner: string | null;
  status: string;
  signoff: 'pending' | 'approved' | 'rejected' | null;
  dueAt: string | null;
  createdAt: string;
  completedAt: string | null;
  version: number;
  carePlan: { title?: string };
}

const STATUS = [
  ['', 'All'],
  ['pending', 'Awaiting sign-off'],
  ['approved', 'Signed'],
  ['rejected', 'Rejected'],
] as const;

/** Submitted → awaiting sign-off → signed or rejected; overdue when unsigned past its due date. */
function stateOf(p: Plan, now: number): { value: string; label: string } {
  if (p.signoff === 'approved') return { value: 'approved', label: 'signed' };
  if (p.signoff === 'rejected') return { value: 'rejected', label: 'rejected' };
  if (p.dueAt && Date.parse(p.dueAt) < now) return { value: 'overdue', label: 'overdue' };
  return { value: 'pending', label: 'awaiting sign-off' };
}

export function CarePlansPage(props: { session: Session }) {
  const [partner, setPartner] = usePartner(props.session);
  const [status, setStatus] = useState<string>('');
  const [error, setError] = useState<string>();
  const pager = usePager();
  const list = useLoad(
    () =>
      partner
        ? get<{ items: Plan[]; next: string | null }>(
            `/api/careplans${qs({ partner, role: 'cp', kind: 'cp-plan', status: status || undefined, limit: 50, cursor: pager.cursor })}`,
          )
        : Promise.resolve({ items: [], next: null }),
    [partner, status, pager.cursor],
  );
  const now = Date.now();
  const fetchStatusFile = async () => {
    setError(undefined);
    try {
      await download(`/api/careplans/status-file${qs({ partner })}`, 'careplan-status.csv');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <PageHeader title="Care plans">
        <PartnerPicker session={props.session} partner={partner} onChange={(p) => (setPartner(p), pager.reset())} />
        <button type="button" onClick={fetchStatusFile} disabled={!partner}>
          Download weekly status file
        </button>
      </PageHeader>
      <Segmented label="sign-off status" options={STATUS} value={status} onChange={(v) => (setStatus(v), pager.reset())} />
      <ErrorBox error={error ?? list.error} />
      <DataTable
        columns={['Submitted', 'Plan', 'Member', 'ACO', 'Version', 'Sign-off due', 'Status']}
        items={list.data?.items}
        empty="No care plans submitted."
        row={(p) => {
          const st = stateOf(p, now);
          return (
            <tr key={p.id} class={st.value === 'overdue' ? 'row-bad' : undefined}>
              <td>{when(p.createdAt)}</td>
              <td>{p.carePlan.title ?? p.id}</td>
              <td class="mono">{p.memberId ?? '—'}</td>
              <td>{p.acoPartner ?? '—'}</td>
              <td>{p.version}</td>
              <td>{when(p.dueAt)}</td>
              <td>
                <Badge value={st.value} label={st.label} />
              </td>
            </tr>
          );
        }}
      />
      <Pager pager={pager} next={list.data?.next} />
    </>
  );
}
