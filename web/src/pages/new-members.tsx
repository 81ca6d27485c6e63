import { get, qs, type Session } from '../api.js';
import { PartnerPicker, usePartner } from '../partner-picker.js';
import { Badge, Empty, ErrorBox, PageHeader, useLoad, when } from '../ui.js';

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
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Member</th>
              <th scope="col">Member id</th>
              <th scope="col">Born</th>
              <th scope="col">Assigned from</th>
              <th scope="col">ACO</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {d?.items.length === 0 && <Empty colSpan={6} text="No new members." />}
            {d?.items.map((m) => (
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
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
