import type { ComponentChildren } from 'preact';

/** Collapsible JSON with native <details> (keyboard and screen readers work without script). */
export function JsonTree(props: { value: unknown; name?: string; depth?: number }) {
  const { value, name } = props;
  const depth = props.depth ?? 0;
  const key = name !== undefined ? <span class="json-key">{name}: </span> : null;
  if (value === null || typeof value !== 'object') {
    return (
      <div class="json-leaf">
        {key}
        <span class={`json-${value === null ? 'null' : typeof value}`}>{JSON.stringify(value)}</span>
      </div>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  // A Bundle entry names its resource's type, so a collapsed entry list is readable.
  const v = value as { resourceType?: string; resource?: { resourceType?: string } };
  const type = v.resourceType ?? v.resource?.resourceType;
  const summary: ComponentChildren = (
    <>
      {key}
      <span class="json-brace">{Array.isArray(value) ? `[${entries.length}]` : '{…}'}</span>
      {type && <span class="json-type"> {type}</span>}
    </>
  );
  return (
    <details class="json-node" open={depth < 2}>
      <summary>{summary}</summary>
      <div class="json-children">
        {entries.map(([k, v]) => (
          <JsonTree key={k} name={k} value={v} depth={depth + 1} />
        ))}
      </div>
    </details>
  );
}
