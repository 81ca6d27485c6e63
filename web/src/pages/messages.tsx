import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { Badge, DataTable, ErrorBox, PageHeader, Pager, useLoad, usePager, when } from '../ui.js';

export interface MessageSummary {
  id: string;
  receivedAt: string;
  sourceKind: string;
  sourceName: string;
  partnerId: string | null;
  sender: string | null;
  controlId: string | null;
  messageType: string | null;
  triggerEvent: string | null;
  version: string | null;
  status: string;
  statusReason: string | null;
  duplicateCount: number;
  replayOf: string | null;
}

interface Criteria {
  controlId: string;
  identifier: string;
  sender: string;
  event: string;
  status: string;
  from: string;
  to: string;
}

const EMPTY: Criteria = { controlId: '', identifier: '', sender: '', event: '', status: '', from: '', to: '' };
const STATUSES = ['received', 'processed', 'filtered', 'rejected', 'failed'];
const PAGE = 50;

/** datetime-local (no zone) → ISO instant in the browser's zone. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

// Search criteria live in memory only: a patient identifier never reaches the address bar or history.
let remembered: Criteria = EMPTY;

export function MessagesPage() {
  const [form, setForm] = useState<Criteria>(remembered);
  const [criteria, setCriteria] = useState<Criteria>(remembered);
  const [live, setLive] = useState(true);
  const pager = usePager();
  const result = useLoad(
    () =>
      post<{ items: MessageSummary[]; next: string | null }>('/api/console/messages/search', {
        controlId: criteria.controlId || undefined,
        identifier: criteria.identifier || undefined,
        sender: criteria.sender || undefined,
        event: criteria.event || undefined,
        status: criteria.status || undefined,
        from: instant(criteria.from),
        to: instant(criteria.to),
        limit: PAGE,
        cursor: pager.cursor,
      }),
    [criteria, pager.cursor],
    live && pager.page === 1 ? 3_000 : undefined,
  );
  const field = (name: keyof Criteria, label: string, type: 'text' | 'datetime-local' = 'text', placeholder = '') => {
    const onInput = (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [name]: e.currentTarget.value });
    return (
      <label>
        {label}
        {type === 'text' ? (
          <input type="text" name={name} value={form[name]} placeholder={placeholder} onInput={onInput} />
        ) : (
          <input type="datetime-local" name={name} value={form[name]} onInput={onInput} />
        )}
      </label>
    );
  };
  const search = (e: Event) => {
    e.preventDefault();
    remembered = form;
    setCriteria(form);
    pager.reset();
  };
  return (
    <>
      <PageHeader title="Messages">
        <label class="inline">
          <input type="checkbox" checked={live} onChange={(e) => setLive(e.currentTarget.checked)} /> Live (every 3 s)
        </label>
      </PageHeader>
      <form class="search" onSubmit={search} aria-label="search messages">
        {field('controlId', 'Control id (MSH-10)')}
        {field('identifier', 'Patient identifier', 'text', 'value or system|value')}
        {field('sender', 'Sender', 'text', 'APP^FACILITY')}
        {field('event', 'Event', 'text', 'A01 or ADT^A01')}
        <label>
          Status
          <select name="status" value={form.status} onChange={(e) => setForm({ ...form, status: e.currentTarget.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {field('from', 'Received from', 'datetime-local')}
        {field('to', 'Received before', 'datetime-local')}
        <div class="search-buttons">
          <button type="submit">Search</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              remembered = EMPTY;
              setForm(EMPTY);
              setCriteria(EMPTY);
              pager.reset();
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorBox error={result.error} />
      <DataTable
        class="messages"
        columns={['Received', 'Control id', 'Event', 'Sender', 'Source', 'Partner', 'Status']}
        items={result.data?.items}
        empty="No message matches."
        row={(m) => (
          <tr key={m.id}>
            <td>
              <a href={`#/messages/${encodeURIComponent(m.id)}`}>{when(m.receivedAt)}</a>
            </td>
            <td class="mono">{m.controlId ?? '—'}</td>
            <td>{[m.messageType, m.triggerEvent].filter(Boolean).join('^') || '—'}</td>
            <td class="mono">{m.sender ?? '—'}</td>
            <td>{m.replayOf ? 'replay' : m.sourceName}</td>
            <td>{m.partnerId ?? '—'}</td>
            <td>
              <Badge value={m.status} />
              {m.duplicateCount > 0 && <span class="muted"> +{m.duplicateCount} dup</span>}
              {m.statusReason && <div class="reason">{m.statusReason}</div>}
            </td>
          </tr>
        )}
      />
      <Pager pager={pager} next={result.data?.next} />
    </>
  );
}
