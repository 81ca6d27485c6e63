import { useState } from 'preact/hooks';
import type { Session } from './api.js';

let remembered: string | undefined;

/** The community partner a care-team page is for: a partner key's own, or (admins) the one chosen. */
export function usePartner(session: Session): [string | undefined, (p: string) => void] {
  const own = session.role === 'partner' && session.partners.length === 1 ? session.partners[0] : undefined;
  const [chosen, setChosen] = useState<string | undefined>(own ?? remembered ?? session.carePartners[0]);
  return [
    own ?? chosen,
    (p: string) => {
      remembered = p;
      setChosen(p);
    },
  ];
}

export function PartnerPicker(props: { session: Session; partner: string | undefined; onChange: (p: string) => void }) {
  const { session } = props;
  if (session.role === 'partner' && session.partners.length === 1) {
    return <span class="partner-name">{session.partnerNames[session.partners[0]] ?? session.partners[0]}</span>;
  }
  return (
    <label class="inline">
      Community partner{' '}
      <select value={props.partner ?? ''} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {session.carePartners.map((p) => (
          <option key={p} value={p}>
            {session.partnerNames[p] ?? p}
          </option>
        ))}
      </select>
    </label>
  );
}
