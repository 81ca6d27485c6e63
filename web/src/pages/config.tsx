import { get } from '../api.js';
import { ErrorBox, PageHeader, useLoad } from '../ui.js';

type Item = Record<string, unknown>;
interface ConfigView {
  partners: Item[];
  sources: Item[];
  destinations: Item[];
  routes: Item[];
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '—';
  if (Array.isArray(v)) return v.length === 0 ? '—' : v.map(text).join(', ');
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return entries.length === 0 ? '—' : entries.map(([k, x]) => `${k}: ${text(x)}`).join('; ');
  }
  return String(v);
}

function Section(props: { title: string; items: Item[]; columns: string[] }) {
  const rest = (item: Item) =>
    Object.entries(item)
      .filter(([k, v]) => !props.columns.includes(k) && text(v) !== '—')
      .map(([k, v]) => `${k}: ${text(v)}`)
      .join(' · ');
  return (
    <section aria-labelledby={`cfg-${props.title}`}>
      <h2 id={`cfg-${props.title}`}>
        {props.title} ({props.items.length})
      </h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
              <th scope="col">settings</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((item, n) => (
              <tr key={n}>
                {props.columns.map((c, i) =>
                  i === 0 ? (
                    <th scope="row" key={c}>
                      {text(item[c])}
                    </th>
                  ) : (
                    <td key={c}>{text(item[c])}</td>
                  ),
                )}
                <td class="small">{rest(item)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function ConfigPage() {
  const cfg = useLoad(() => get<ConfigView>('/api/console/config'), []);
  return (
    <>
      <PageHeader title="Configuration">
        <span class="muted">read-only; secrets are shown as (set)</span>
      </PageHeader>
      <ErrorBox error={cfg.error} />
      {cfg.data && (
        <>
          <Section title="Partners" items={cfg.data.partners} columns={['id', 'name', 'kind', 'senders', 'destinations']} />
          <Section title="Sources" items={cfg.data.sources} columns={['id', 'type', 'partner']} />
          <Section title="Destinations" items={cfg.data.destinations} columns={['id', 'type', 'partner', 'url']} />
          <Section title="Routes" items={cfg.data.routes} columns={['id', 'match', 'to', 'toAttributed']} />
        </>
      )}
    </>
  );
}
