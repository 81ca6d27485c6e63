import { parseMemberLayout } from '../../../../adapters/member-common/layout-loader.js';
import type { LayoutProfile } from '../../../../adapters/member-common/layout-schema.js';
import type { MemberItem, MemberRecord, RowError } from '../../../../adapters/member-common/types.js';

/** Feeds `data` as Buffers of the given sizes (cycled), to cross every boundary a stream may cut. */
export async function* chunked(data: string | Buffer, sizes: number[] = [1 << 16]): AsyncGenerator<Buffer> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

export async function collect(gen: AsyncIterable<MemberItem>): Promise<MemberItem[]> {
  const out: MemberItem[] = [];
  for await (const item of gen) out.push(item);
  return out;
}

export function records(items: MemberItem[]): MemberRecord[] {
  return items.flatMap((i) => (i.kind === 'record' ? [i.record] : []));
}

export function errors(items: MemberItem[]): RowError[] {
  return items.flatMap((i) => (i.kind === 'error' ? [i.error] : []));
}

export function warnings(items: MemberItem[]): RowError[] {
  return items.flatMap((i) => (i.kind === 'warning' ? [i.warning] : []));
}

export const MEDICAID = 'https://www.mass.gov/masshealth/member-id';

/** A layout from an inline document, validated like a YAML file would be. */
export function layout<T extends LayoutProfile['format']>(
  doc: Record<string, unknown> & { format: T },
): Extract<LayoutProfile, { format: T }> {
  return parseMemberLayout({ id: 'acme', memberIdSystem: MEDICAID, ...doc }, 'test.yaml') as Extract<LayoutProfile, { format: T }>;
}
