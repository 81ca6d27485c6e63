import { useState } from 'preact/hooks';
import { get, post, qs, type Session } from '../api.js';
import { Badge, DataTable, numeric, ErrorBox, Notice, PageHeader, Pager, useLoad, usePager, when } from '../ui.js';

interface Delivery {
  id: string;
  messageId: string;
  destination: string;
  status: string;
  attempts: number;
  lastError: string | null;
  updatedAt: string;
}

interface Overview {
  destinations: { id: string; dead: number; partner: string | null }[];
}

export function DeadLettersPage(_props: { session: Session }) {
  const overview = useLoad(() => get<Overview>('/api/console/overview'), [], 10_000);
  const [destination, setDestination] = useState<string>('');
  const pager = usePager();
  const list = useLoad(
    () =>
      get<{ items: Delivery[]; next: string | null }>(
        `/api/deliveries${qs({ status: 'dead', destination: destination || undefined, limit: 50, cursor: pager.cursor })}`,
      ),
    [destination, pager.cursor],
  );
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();
  const run = async (what: () => Promise<string>) => {
    setError(undefined);
    try {
      setNotice(await what());
      await Promise.all([list.reload(), overview.reload()]);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const requeueOne = (d: Delivery) =>
    run(async () => {
      await post(`/api/deliveries/${encodeURIComponent(d.id)}/requeue`);
      return `Requeued 1 dead letter to ${d.destination}.`;
    });
  const requeueAll = (id: string) =>
    run(async () => {
      const r = await post<{ requeued: string[] }>(`/api/destinations/${encodeURIComponent(id)}/requeue-dead`);
      return `Requeued ${r.requeued.length} dead letter${r.requeued.length === 1 ? '' : 's'} to ${id}.`;
    });

  return (
    <>
      <PageHeader title="Dead letters" />
      <Notice text={notice} />
      <ErrorBox error={error ?? list.error} />
      <h2>By destination</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Destination</th>
              <th scope="col">Partner</th>
              <th scope="col" class="num">
                Dead letters
              </th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {overview.data?.destinations.map((d) => (
              <tr key={d.id} class={d.dead > 0 ? 'row-bad' : undefined}>
                <th scope="row">{d.id}</th>
                <td>{d.partner ?? '—'}</td>
                <td class="num">{d.dead}</td>
                <td>
                  <div class="actions">
                    <button type="button" class="small secondary" onClick={() => (setDestination(d.id), pager.reset())}>
                      Show
                    </button>
                    <button type="button" class="small" disabled={d.dead === 0} onClick={() => requeueAll(d.id)}>
                      Requeue all
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>
        {destination ? `Dead letters of ${destination}` : 'All dead letters'}{' '}
        {destination && (
          <button type="button" class="small secondary" onClick={() => (setDestination(''), pager.reset())}>
            Show all
          </button>
        )}
      </h2>
      <DataTable
        class="dead-letters"
        columns={['Since', 'Destination', 'Message', ...numeric('Attempts'), 'Last error', 'Action']}
        items={list.data?.items}
        empty="No dead letters."
        row={(d) => (
          <tr key={d.id}>
            <td>{when(d.updatedAt)}</td>
            <td>{d.destination}</td>
            <td>
              <a href={`#/messages/${encodeURIComponent(d.messageId)}`}>open message</a>
            </td>
            <td class="num">{d.attempts}</td>
            <td>
              <Badge value={d.status} /> {d.lastError}
            </td>
            <td>
              <button type="button" class="small" onClick={() => requeueOne(d)}>
                Requeue
              </button>
            </td>
          </tr>
        )}
      />
      <Pager pager={pager} next={list.data?.next} />
    </>
  );
}
