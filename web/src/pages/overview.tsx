import { get } from '../api.js';
import { TimeChart } from '../chart.js';
import { Badge, DataTable, numeric, ErrorBox, PageHeader, useLoad, when } from '../ui.js';

interface Overview {
  at: string;
  health: { store: 'up' | 'down'; redis: 'up' | 'down'; storeKind: string };
  messages: Record<string, number>;
  traffic: {
    intervalSeconds: number;
    t: number[];
    sources: Record<string, { received: number[]; acked: number[]; rejected: number[]; filtered: number[] }>;
  };
  destinations: {
    id: string;
    type: string;
    partner: string | null;
    queued: number | null;
    inFlight: number | null;
    retrying: number | null;
    pending: number;
    dead: number;
    latencyP50Seconds: number | null;
    latencyP95Seconds: number | null;
    delivered: number;
  }[];
}

interface FileStatus {
  sourceId: string;
  partner: string;
  lastFileAt: string | null;
  missingSince: string | null;
  expectedBy: string | null;
  lastPollAt: string | null;
  consecutiveFailures: number;
  lastError: string | null;
  waitingFiles: number;
}

const n = (v: number | null) => (v === null ? '—' : String(v));
const secs = (v: number | null) => (v === null ? '—' : v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(1)} s`);

const COLORS = { received: '#2563eb', acked: '#16a34a', rejected: '#dc2626', filtered: '#9ca3af' };

export function OverviewPage() {
  const overview = useLoad(() => get<Overview>('/api/console/overview'), [], 5_000);
  const files = useLoad(() => get<{ items: FileStatus[] }>('/api/sources/files').catch(() => ({ items: [] })), [], 15_000);
  const o = overview.data;
  return (
    <>
      <PageHeader title="Overview">
        <span class="muted" aria-live="off">
          {o ? `updated ${when(o.at)} · every 5 s` : ''}
        </span>
      </PageHeader>
      <ErrorBox error={overview.error} />
      {o && (
        <>
          <section class="cards" aria-label="health">
            <div class="card">
              <div class="card-label">Message store ({o.health.storeKind})</div>
              <Badge value={o.health.store} />
            </div>
            <div class="card">
              <div class="card-label">Redis (queues)</div>
              <Badge value={o.health.redis} />
            </div>
            {['processed', 'received', 'rejected', 'filtered', 'failed'].map((s) => (
              <div class="card" key={s}>
                <div class="card-label">{s}</div>
                <div class="card-value">{o.messages[s] ?? 0}</div>
              </div>
            ))}
          </section>

          <h2>Traffic per source (last hour, per {o.traffic.intervalSeconds} s)</h2>
          <div class="charts">
            {Object.entries(o.traffic.sources).map(([source, s]) => (
              <TimeChart
                key={source}
                title={source}
                t={o.traffic.t}
                series={[
                  { label: 'received', values: s.received, stroke: COLORS.received },
                  { label: 'ACKed', values: s.acked, stroke: COLORS.acked },
                  { label: 'rejected', values: s.rejected, stroke: COLORS.rejected },
                  { label: 'filtered', values: s.filtered, stroke: COLORS.filtered },
                ]}
              />
            ))}
          </div>

          <h2>Destinations</h2>
          <DataTable
            columns={[
              'Destination',
              'Type',
              'Partner',
              ...numeric('Queued', 'In flight', 'Retrying', 'Dead letters', 'Latency p50', 'p95', 'Delivered'),
            ]}
            items={o.destinations}
            row={(d) => (
              <tr key={d.id}>
                <th scope="row">{d.id}</th>
                <td>{d.type}</td>
                <td>{d.partner ?? '—'}</td>
                <td class="num">{n(d.queued)}</td>
                <td class="num">{n(d.inFlight)}</td>
                <td class="num">{n(d.retrying)}</td>
                <td class="num">
                  {d.dead > 0 ? (
                    <a href="#/dead-letters" class="bad-text">
                      {d.dead}
                    </a>
                  ) : (
                    0
                  )}
                </td>
                <td class="num">{secs(d.latencyP50Seconds)}</td>
                <td class="num">{secs(d.latencyP95Seconds)}</td>
                <td class="num">{d.delivered}</td>
              </tr>
            )}
          />
        </>
      )}

      <h2>Partner file arrivals</h2>
      <DataTable
        columns={['Partner', 'Source', 'Last file', 'Daily file', 'Last poll', 'Connection']}
        items={files.data?.items ?? []}
        empty="No SFTP or folder sources are configured."
        row={(f) => (
          <tr key={f.sourceId} class={f.missingSince ? 'row-bad' : undefined}>
            <th scope="row">{f.partner}</th>
            <td>{f.sourceId}</td>
            <td>{when(f.lastFileAt)}</td>
            <td>
              {f.missingSince ? (
                <Badge value="missing" label={`missing since ${when(f.missingSince)}`} />
              ) : f.expectedBy ? (
                `expected by ${when(f.expectedBy)}`
              ) : (
                '—'
              )}
            </td>
            <td>{when(f.lastPollAt)}</td>
            <td>
              {f.consecutiveFailures > 0 ? (
                <Badge value="failed" label={`${f.consecutiveFailures} failed polls`} />
              ) : (
                <Badge value="up" label="ok" />
              )}
            </td>
          </tr>
        )}
      />
    </>
  );
}
