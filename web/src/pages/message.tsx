import { useState } from 'preact/hooks';
import { get, post, type Session } from '../api.js';
import { Hl7View } from '../hl7-view.js';
import { JsonTree } from '../json-tree.js';
import { Badge, ErrorBox, Notice, PageHeader, useLoad, when } from '../ui.js';
import type { MessageSummary } from './messages.js';

interface Attempt {
  id: string;
  startedAt: string;
  durationMs: number;
  outcome: string;
  httpStatus: number | null;
  ackCode: string | null;
  error: string | null;
}

interface Delivery {
  id: string;
  destination: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  withheldReason: string | null;
  createdAt: string;
  deliveredAt: string | null;
  attemptLog: Attempt[];
}

interface MessageDetail extends MessageSummary {
  raw: string;
  rawEncoding: 'utf-8' | 'base64';
  fhir: object | null;
  identifiers: { system: string; value: string }[];
  receipts: { id: string; receivedAt: string; duplicate: boolean; sourceName: string }[];
  deliveries: Delivery[];
  replays: MessageSummary[];
}

interface Analysis {
  warnings: string[];
  conversionError: string | null;
  routes: { routeId: string; destinations: string[]; toAttributed: string | null }[];
}

interface ConfigView {
  destinations: { id: string; partner?: string; type: string }[];
}

let destinationPartners: Promise<Map<string, string>> | undefined;
const partnersOfDestinations = () =>
  (destinationPartners ??= get<ConfigView>('/api/console/config').then(
    (c) => new Map(c.destinations.filter((d) => d.partner).map((d) => [d.id, d.partner!])),
    () => new Map<string, string>(),
  ));

export function MessagePage(props: { id: string; session: Session }) {
  const detail = useLoad(() => get<MessageDetail>(`/api/messages/${encodeURIComponent(props.id)}`), [props.id]);
  const analysis = useLoad(() => get<Analysis>(`/api/console/messages/${encodeURIComponent(props.id)}/analysis`), [props.id]);
  const owners = useLoad(partnersOfDestinations, []);
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const m = detail.data;

  const act = async (what: () => Promise<string>) => {
    setError(undefined);
    try {
      setNotice(await what());
      await detail.reload();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const replay = () =>
    act(async () => {
      const r = await post<{ id: string }>(`/api/messages/${encodeURIComponent(props.id)}/replay`);
      return `Replayed as a new message (${r.id}).`;
    });
  const requeue = (deliveryId: string) =>
    act(async () => {
      await post(`/api/deliveries/${encodeURIComponent(deliveryId)}/requeue`);
      return 'Dead letter requeued.';
    });
  const dead = m?.deliveries.filter((d) => d.status === 'dead') ?? [];

  return (
    <>
      <PageHeader title={m ? `Message ${m.controlId ?? m.id}` : 'Message'}>
        <a href="#/messages" class="button secondary">
          ← Messages
        </a>
        <button type="button" onClick={replay} disabled={!m}>
          Replay
        </button>
        <button type="button" onClick={() => Promise.all(dead.map((d) => requeue(d.id)))} disabled={dead.length === 0}>
          Requeue{dead.length > 0 ? ` (${dead.length})` : ''}
        </button>
      </PageHeader>
      <Notice text={notice} />
      <ErrorBox error={error ?? detail.error} />
      {m && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Badge value={m.status} /> {m.statusReason && <span class="reason">{m.statusReason}</span>}
            </dd>
            <dt>Event</dt>
            <dd>{[m.messageType, m.triggerEvent].filter(Boolean).join('^') || '—'}</dd>
            <dt>Received</dt>
            <dd>{when(m.receivedAt)}</dd>
            <dt>Source</dt>
            <dd>
              {m.sourceName} ({m.sourceKind})
            </dd>
            <dt>Sender</dt>
            <dd class="mono">{m.sender ?? '—'}</dd>
            <dt>Partner</dt>
            <dd>{m.partnerId ?? '—'}</dd>
            <dt>Version</dt>
            <dd>{m.version ?? '—'}</dd>
            <dt>Receipts</dt>
            <dd>
              {m.receipts.length}
              {m.duplicateCount > 0 && ` (${m.duplicateCount} duplicates)`}
            </dd>
            {m.replayOf && (
              <>
                <dt>Replay of</dt>
                <dd>
                  <a href={`#/messages/${encodeURIComponent(m.replayOf)}`}>{m.replayOf}</a>
                </dd>
              </>
            )}
          </dl>

          <section aria-labelledby="warnings-title">
            <h2 id="warnings-title">Warnings</h2>
            {analysis.data?.conversionError && (
              <p class="error">Does not convert with the current mappings: {analysis.data.conversionError}</p>
            )}
            {analysis.data && analysis.data.warnings.length === 0 && !analysis.data.conversionError && <p class="muted">No warnings.</p>}
            <ul class="warnings">
              {analysis.data?.warnings.map((w, i) => (
                <li key={i}>{w}</li>
              ))}
            </ul>
          </section>

          <section aria-labelledby="routing-title">
            <h2 id="routing-title">Routing decision</h2>
            <p class="muted small">
              Route rules this message matches under the current configuration; each delivery below is what was decided when it was
              processed.
            </p>
            <ul class="routes">
              {analysis.data?.routes.length === 0 && <li>No route rule matches.</li>}
              {analysis.data?.routes.map((r) => (
                <li key={r.routeId}>
                  route <strong>{r.routeId}</strong> →{' '}
                  {r.toAttributed ? `the member’s attributed ${r.toAttributed.toUpperCase()}` : r.destinations.join(', ')}
                </li>
              ))}
            </ul>
          </section>

          <section aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">Deliveries</h2>
            {m.deliveries.length === 0 && <p class="muted">No delivery was made for this message.</p>}
            {m.deliveries.map((d) => (
              <div class="delivery" key={d.id}>
                <div class="delivery-head">
                  <strong>{d.destination}</strong>
                  <span class="muted">partner {owners.data?.get(d.destination) ?? '—'}</span>
                  <Badge value={d.status} />
                  <span class="muted">
                    {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                  </span>
                  {d.status === 'dead' && (
                    <button type="button" class="small" onClick={() => requeue(d.id)}>
                      Requeue
                    </button>
                  )}
                </div>
                {d.withheldReason && <p class="warn-text">Withheld: {d.withheldReason}</p>}
                {d.lastError && <p class="bad-text">Last error: {d.lastError}</p>}
                {d.nextAttemptAt && <p class="muted">Next attempt {when(d.nextAttemptAt)}</p>}
                {d.attemptLog.length > 0 && (
                  <table class="attempts">
                    <thead>
                      <tr>
                        <th scope="col">Attempt</th>
                        <th scope="col">Outcome</th>
                        <th scope="col">HTTP / ACK</th>
                        <th scope="col" class="num">
                          ms
                        </th>
                        <th scope="col">Error</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.attemptLog.map((a) => (
                        <tr key={a.id}>
                          <td>{when(a.startedAt)}</td>
                          <td>
                            <Badge
                              value={a.outcome === 'success' ? 'delivered' : a.outcome === 'fatal-error' ? 'failed' : 'failed-retrying'}
                              label={a.outcome}
                            />
                          </td>
                          <td>{a.httpStatus ?? a.ackCode ?? '—'}</td>
                          <td class="num">{Math.round(a.durationMs)}</td>
                          <td>{a.error ?? ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
            ))}
          </section>

          {m.replays.length > 0 && (
            <section aria-labelledby="replays-title">
              <h2 id="replays-title">Replays</h2>
              <ul>
                {m.replays.map((r) => (
                  <li key={r.id}>
                    <a href={`#/messages/${encodeURIComponent(r.id)}`}>{when(r.receivedAt)}</a> <Badge value={r.status} />
                  </li>
                ))}
              </ul>
            </section>
          )}

          <section aria-labelledby="raw-title">
            <h2 id="raw-title">Raw message</h2>
            {m.rawEncoding === 'utf-8' && !m.raw.startsWith('{') ? (
              <Hl7View raw={m.raw} version={m.version} />
            ) : (
              <pre class="raw">{m.raw}</pre>
            )}
          </section>

          <section aria-labelledby="fhir-title">
            <h2 id="fhir-title">FHIR Bundle</h2>
            {m.fhir ? <JsonTree value={m.fhir} /> : <p class="muted">No FHIR output.</p>}
          </section>
        </>
      )}
    </>
  );
}
