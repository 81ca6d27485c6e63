import { get, qs, type Session } from '../api.js';
import { PartnerPicker, usePartner } from '../partner-picker.js';
import { Badge, DataTable, ErrorBox, PageHeader, useLoad, when } from '../ui.js';

interface NewMembers {
  import: { id: string; partnerId: string; importDate: string; receivedAt: string } | null;
  items: { memberId: string; name: string; birthDate: string | null; since: string | null; aco: string | null; newMember: boolean }[];
}

export function NewMembersPage(props: { session: Session }) {
  const [partner, setPartner] = usePartner(props.session);
  const data = useLoad(
    () => (partner ? get<NewMembers>(`/api/console/new-members${qs({ partner })}`) : Promise.resolve({ import: null, items: [] })),
    [partner],
  );
  const d = data.data;
  return (
    <>
      <PageHeader title="New members">
        <PartnerPicker session={props.session} partner={partner} onChange={setPartner} />
      </PageHeader>
      <ErrorBox error={data.error} />
      {d && (
        <p class="muted">
          {d.import
            ? `Assigned by the roster file of ${d.import.partnerId} dated ${d.import.importDate} (received ${when(d.import.receivedAt)}).`
            : 'No roster file has assigned members to this partner yet.'}
        </p>
      )}
      <DataTable
        columns={['Member', 'Member id', 'Born', 'Assigned from', 'ACO', '']}
        items={d?.items}
        empty="No new members."
        row={(m) => (
          <tr key={m.memberId}>
            <th scope="row">{m.name}</th>
            <td class="mono">{m.memberId}</td>
            <td>{m.birthDate ?? '—'}</td>
            <td>{m.since ?? '—'}</td>
            <td>{m.aco ?? '—'}</td>
            <td>
              {m.newMember ? <Badge value="processed" label="new to the roster" /> : <Badge value="pending" label="moved to this CP" />}
            </td>
          </tr>
        )}
      />
    </>
  );
}
