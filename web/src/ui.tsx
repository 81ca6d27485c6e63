import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** Loads on mount and whenever `deps` change; `reload` runs it again (e.g. after an action). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine === seq.current) {
        setData(value);
        setError(undefined);
      }
    } catch (e) {
      if (mine === seq.current) setError((e as Error).message);
    } finally {
      if (mine === seq.current) setLoading(false);
    }
    // `deps` are the caller's: `load` is a new closure on every render.
  }, deps);
  useEffect(() => {
    void reload();
    if (!pollMs) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, pollMs);
    return () => clearInterval(timer);
  }, [reload, pollMs]);
  return { data, error, loading, reload };
}

export function PageHeader(props: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1 id="page-title" tabIndex={-1}>
        {props.title}
      </h1>
      <div class="page-actions">{props.children}</div>
    </header>
  );
}

export function ErrorBox(props: { error?: string }) {
  if (!props.error) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

export function Notice(props: { text?: string }) {
  return (
    <p class="notice" role="status" aria-live="polite">
      {props.text ?? ''}
    </p>
  );
}

const TONE: Record<string, string> = {
  processed: 'ok',
  delivered: 'ok',
  applied: 'ok',
  approved: 'ok',
  done: 'ok',
  up: 'ok',
  received: 'info',
  pending: 'info',
  due: 'info',
  'in-progress': 'info',
  filtered: 'muted',
  duplicate: 'muted',
  cancelled: 'muted',
  withheld: 'warn',
  'failed-retrying': 'warn',
  rejected: 'bad',
  failed: 'bad',
  dead: 'bad',
  overdue: 'bad',
  down: 'bad',
  missing: 'bad',
};

export function Badge(props: { value: string | null | undefined; label?: string }) {
  const v = props.value ?? '—';
  return <span class={`badge tone-${TONE[v] ?? 'info'}`}>{props.label ?? v}</span>;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Keyset paging: the server's cursor for the next page, a stack of earlier ones to go back. */
export function usePager() {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    next: (c: string | null | undefined) => c && setStack([...stack, c]),
    prev: () => stack.length > 1 && setStack(stack.slice(0, -1)),
    reset: () => setStack([undefined]),
  };
}

export function Pager(props: { pager: ReturnType<typeof usePager>; next: string | null | undefined }) {
  const { pager } = props;
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" onClick={pager.prev} disabled={pager.page <= 1}>
        ← Newer
      </button>
      <span>page {pager.page}</span>
      <button type="button" onClick={() => pager.next(props.next)} disabled={!props.next}>
        Older →
      </button>
    </nav>
  );
}

export function Empty(props: { colSpan: number; text?: string }) {
  return (
    <tr>
      <td colSpan={props.colSpan} class="empty">
        {props.text ?? 'Nothing here.'}
      </td>
    </tr>
  );
}

/** A table column: its heading, right-aligned when it holds numbers. */
export type Column = string | { label: string; num?: boolean };

/** Right-aligned number columns. */
export const numeric = (...labels: string[]): Column[] => labels.map((label) => ({ label, num: true }));

/**
 * The console's list table: one heading per column, a row per item, and while there are none one
 * row spanning every column that says so (`items` undefined: still loading, no such row).
 */
export function DataTable<T>(props: {
  columns: readonly Column[];
  items: readonly T[] | undefined;
  empty?: string;
  class?: string;
  row: (item: T) => ComponentChildren;
}) {
  return (
    <div class="table-wrap">
      <table class={props.class}>
        <thead>
          <tr>
            {props.columns.map((c, i) =>
              typeof c === 'string' ? (
                <th scope="col" key={i}>
                  {c}
                </th>
              ) : (
                <th scope="col" class={c.num ? 'num' : undefined} key={i}>
                  {c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {props.items?.length === 0 && <Empty colSpan={props.columns.length} text={props.empty} />}
          {props.items?.map(props.row)}
        </tbody>
      </table>
    </div>
  );
}

/** A row of mutually exclusive filter buttons (keyboard-reachable, state announced by aria-pressed). */
export function Segmented<V extends string>(props: {
  label: string;
  options: readonly (readonly [V, string])[];
  value: V;
  onChange: (value: V) => void;
}) {
  return (
    <div class="segmented" role="group" aria-label={props.label}>
      {props.options.map(([value, text]) => (
        <button
          key={value}
          type="button"
          aria-pressed={props.value === value}
          class={props.value === value ? 'active' : ''}
          onClick={() => props.onChange(value)}
        >
          {text}
        </button>
      ))}
    </div>
  );
}
