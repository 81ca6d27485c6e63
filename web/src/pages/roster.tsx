import { useState } from 'preact/hooks';
import { get, post, qs } from '../api.js';
import { Badge, DataTable, numeric, Empty, ErrorBox, PageHeader, Pager, useLoad, usePager, when } from '../ui.js';

interface ImportRecord {
  id: string;
  partnerId: string;
  sourceId: string | null;
  fileName: string;
  receivedAt: string;
  importDate: string;
  fileKind: string;
  status: string;
  rows: number;
  applied: number;
  errors: number;
  warnings: number;
  added: number;
  changed: number;
  terminated: number;
  error: string | null;
}
interface ImportDetail extends ImportRecord {
  issues: { line: number; kind: string; reason: string }[];
}
interface DiffEvent {
  id: string;
  importId: string;
  partnerId: string;
  memberId: string;
  kind: string;
  detail: Record<string, unknown>;
  partners: string[];
  createdAt: string;
}
interface Unmatched {
  id: string;
  messageId: string;
  partnerId: string | null;
  receivedAt: string;
  identifiers: { system: string; value: string }[];
  resolvedAt: string | null;
  memberId: string | null;
}
interface Attribution {
  partnerId: string;
  role: string;
  start: string;
  end: string | null;
  sourcePartnerId: string | null;
  importId: string | null;
}
interface Member {
  memberId: string;
  status: string;
  name?: { family?: string; given?: string[] };
  birthDate?: string;
  identifiers: { system: string; value: string }[];
  consents: { partnerId: string; category: string; granted: boolean; source: string; recordedAt: string }[];
}

const TABS = ['Imports', 'Diff events', 'Member', 'Unmatched events'] as const;
type Tab = (typeof TABS)[number];

function Imports() {
  const pager = usePager();
  const list = useLoad(
    () => get<{ items: ImportRecord[]; next: string | null }>(`/api/roster/imports${qs({ limit: 25, cursor: pager.cursor })}`),
    [pager.cursor],
  );
  const [open, setOpen] = useState<string>();
  const detail = useLoad(
    () => (open ? get<ImportDetail>(`/api/roster/imports/${encodeURIComponent(open)}`) : Promise.resolve(undefined)),
    [open],
  );
  return (
    <>
      <ErrorBox error={list.error} />
      <DataTable
        columns={['Received', 'Partner', 'File', 'Status', ...numeric('Rows', 'Applied', 'Errors', 'Added', 'Changed', 'Terminated')]}
        items={list.data?.items}
        empty="No member file imported yet."
        row={(i) => (
          <tr key={i.id} class={i.errors > 0 || i.status === 'failed' ? 'row-warn' : undefined}>
            <td>{when(i.receivedAt)}</td>
            <td>{i.partnerId}</td>
            <td>
              <button type="button" class="link" onClick={() => setOpen(i.id)} aria-expanded={open === i.id}>
                {i.fileName}
              </button>
            </td>
            <td>
              <Badge value={i.status} /> {i.error}
            </td>
            <td class="num">{i.rows}</td>
            <td class="num">{i.applied}</td>
            <td class="num">{i.errors}</td>
            <td class="num">{i.added}</td>
            <td class="num">{i.changed}</td>
            <td class="num">{i.terminated}</td>
          </tr>
        )}
      />
      <Pager pager={pager} next={list.data?.next} />
      {detail.data && (
        <section class="panel" aria-labelledby="issues-title">
          <h2 id="issues-title">Row errors and warnings: {detail.data.fileName}</h2>
          {detail.data.issues.length === 0 && <p class="muted">Every row was read.</p>}
          <table>
            <thead>
              <tr>
                <th scope="col" class="num">
                  Line
                </th>
                <th scope="col">Kind</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {detail.data.issues.map((x, n) => (
                <tr key={n}>
                  <td class="num">{x.line}</td>
                  <td>
                    <Badge value={x.kind === 'error' ? 'failed' : 'withheld'} label={x.kind} />
                  </td>
                  <td>{x.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}

function changeText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => {
      if (v && typeof v === 'object' && 'from' in v) {
        const c = v as { from: unknown; to: unknown };
        return `${k}: ${c.from ?? '—'} → ${c.to ?? '—'}`;
      }
      if (v === true) return k;
      return `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
    })
    .join('; ');
}

function DiffEvents() {
  const pager = usePager();
  const [kind, setKind] = useState('');
  const list = useLoad(
    () =>
      get<{ items: DiffEvent[]; next: string | null }>(
        `/api/roster/diff-events${qs({ kind: kind || undefined, limit: 50, cursor: pager.cursor })}`,
      ),
    [kind, pager.cursor],
  );
  return (
    <>
      <label class="inline">
        Kind{' '}
        <select value={kind} onChange={(e) => (setKind(e.currentTarget.value), pager.reset())}>
          <option value="">any</option>
          <option value="added">added</option>
          <option value="changed">changed</option>
          <option value="terminated">terminated</option>
        </select>
      </label>
      <ErrorBox error={list.error} />
      <DataTable
        columns={['When', 'Member', 'Kind', 'From file of', 'What changed']}
        items={list.data?.items}
        empty="No roster changes."
        row={(e) => (
          <tr key={e.id}>
            <td>{when(e.createdAt)}</td>
            <td class="mono">{e.memberId}</td>
            <td>
              <Badge value={e.kind === 'terminated' ? 'cancelled' : e.kind === 'added' ? 'processed' : 'pending'} label={e.kind} />
            </td>
            <td>{e.partnerId}</td>
            <td>{changeText(e.detail)}</td>
          </tr>
        )}
      />
      <Pager pager={pager} next={list.data?.next} />
    </>
  );
}

function MemberLookup() {
  const [identifier, setIdentifier] = useState('');
  const [member, setMember] = useState<Member | null>();
  const [history, setHistory] = useState<Attribution[]>([]);
  const [error, setError] = useState<string>();
  // The identifier travels in a POST body and the member comes back with its history: neither the
  // identifier nor the member id is ever in a URL.
  const find = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const found = await post<{ member: Member | null; attributions: Attribution[] }>('/api/console/roster/member', { identifier });
      setMember(found.member);
      setHistory(found.attributions);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <form class="search" onSubmit={find} aria-label="find a member">
        <label>
          Member identifier
          <input value={identifier} onInput={(e) => setIdentifier(e.currentTarget.value)} placeholder="value or system|value" required />
        </label>
        <div class="search-buttons">
          <button type="submit">Find</button>
        </div>
      </form>
      <ErrorBox error={error} />
      {member === null && <p class="muted">No member has that identifier.</p>}
      {member && (
        <section class="panel">
          <h2>
            {member.name ? [member.name.family, (member.name.given ?? []).join(' ')].filter(Boolean).join(', ') : member.memberId}{' '}
            <Badge value={member.status === 'active' ? 'processed' : 'cancelled'} label={member.status} />
          </h2>
          <p class="muted">
            Member {member.memberId} · born {member.birthDate ?? '—'} · {member.identifiers.map((i) => i.value).join(', ')}
          </p>
          <h3>Attribution history</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Role</th>
                <th scope="col">Partner</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Stated by</th>
              </tr>
            </thead>
            <tbody>
              {history.length === 0 && <Empty colSpan={5} />}
              {history.map((a, n) => (
                <tr key={n}>
                  <td>{a.role.toUpperCase()}</td>
                  <td>{a.partnerId}</td>
                  <td>{a.start}</td>
                  <td>{a.end ?? 'open'}</td>
                  <td>{a.sourcePartnerId ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Consents</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Partner</th>
                <th scope="col">Category</th>
                <th scope="col">Decision</th>
                <th scope="col">Source</th>
                <th scope="col">Recorded</th>
              </tr>
            </thead>
            <tbody>
              {member.consents.length === 0 && <Empty colSpan={5} text="No consent on file." />}
              {member.consents.map((c, n) => (
                <tr key={n}>
                  <td>{c.partnerId}</td>
                  <td>{c.category}</td>
                  <td>
                    <Badge value={c.granted ? 'approved' : 'rejected'} label={c.granted ? 'granted' : 'refused'} />
                  </td>
                  <td>{c.source}</td>
                  <td>{when(c.recordedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}

function UnmatchedEvents() {
  const pager = usePager();
  const [resolved, setResolved] = useState('false');
  const list = useLoad(
    () =>
      get<{ items: Unmatched[]; next: string | null }>(
        `/api/roster/unmatched${qs({ resolved: resolved || undefined, limit: 50, cursor: pager.cursor })}`,
      ),
    [resolved, pager.cursor],
  );
  return (
    <>
      <label class="inline">
        Show{' '}
        <select value={resolved} onChange={(e) => (setResolved(e.currentTarget.value), pager.reset())}>
          <option value="false">still unmatched</option>
          <option value="true">resolved later</option>
          <option value="">all</option>
        </select>
      </label>
      <ErrorBox error={list.error} />
      <DataTable
        columns={['Received', 'Sender partner', 'Identifier systems', 'Resolved', 'Message']}
        items={list.data?.items}
        empty="No unmatched events."
        row={(u) => (
          <tr key={u.id}>
            <td>{when(u.receivedAt)}</td>
            <td>{u.partnerId ?? '—'}</td>
            <td class="small">{u.identifiers.map((i) => i.system).join(', ')}</td>
            <td>{u.resolvedAt ? `${when(u.resolvedAt)} → ${u.memberId}` : <Badge value="pending" label="unmatched" />}</td>
            <td>
              <a href={`#/messages/${encodeURIComponent(u.messageId)}`}>open message</a>
            </td>
          </tr>
        )}
      />
      <Pager pager={pager} next={list.data?.next} />
    </>
  );
}

export function RosterPage() {
  const [tab, setTab] = useState<Tab>('Imports');
  return (
    <>
      <PageHeader title="Roster" />
      <div class="tabs" role="tablist" aria-label="roster views">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={tab === t}
            class={tab === t ? 'tab active' : 'tab'}
            onClick={() => setTab(t)}
          >
            {t}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={tab}>
        {tab === 'Imports' && <Imports />}
        {tab === 'Diff events' && <DiffEvents />}
        {tab === 'Member' && <MemberLookup />}
        {tab === 'Unmatched events' && <UnmatchedEvents />}
      </div>
    </>
  );
}
