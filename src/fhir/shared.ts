// Resources a converter shares between Bundles (the same Practitioner or facility Organization in
// thousands of messages). Shared means: never changed after it is marked. The serializer reuses
// their JSON text; whoever needs to change one (security labels) changes a copy.
const shared = new WeakSet<object>();

/** Marks a finished resource as shared; it must not be changed afterwards. */
export function markShared<T extends object>(resource: T): T {
  shared.add(resource);
  return resource;
}

export function isShared(resource: object): boolean {
  return shared.has(resource);
}
