import { RosterInputError } from './errors.js';

/** Event and unmatched-event ids are integers; anything else in a cursor or id list is bad input. */
export function integerId(id: string): number {
  if (!/^\d{1,15}$/.test(id)) throw new RosterInputError('invalid id');
  return Number(id);
}
