/**
 * The attribution roster: which members belong to which ACO / CP, on which dates, with which
 * identifiers and consents. Fed by member files (SFTP), queried by routing for every ADT event.
 */

export interface MemberIdentifier {
  system: string;
  value: string;
  type?: string;
}

export interface Attribution {
  partnerId: string;
  /** The partner's role for this member. */
  role: 'aco' | 'cp' | 'pcp';
  /** YYYY-MM-DD, inclusive. */
  start: string;
  /** YYYY-MM-DD, inclusive; undefined = open-ended. */
  end?: string;
  /** Import that established it. */
  importId?: string;
  /** Partner whose member file stated it (an ACO's file names the member's CP too). */
  sourcePartnerId?: string;
}

export interface ConsentRecord {
  /** Partner the consent lets receive sensitive events. */
  partnerId: string;
  category: 'behavioral-health' | 'substance-use';
  granted: boolean;
  /** Where it came from: member-file, api, fhir-consent. */
  source: string;
  recordedAt: Date;
}

export interface MemberAddress {
  line?: string[];
  city?: string;
  state?: string;
  postalCode?: string;
}

export interface Member {
  /** Stable roster id (Medicaid member id is the natural key). */
  memberId: string;
  identifiers: MemberIdentifier[];
  name?: { family?: string; given?: string[] };
  birthDate?: string;
  sex?: string;
  address?: MemberAddress;
  phone?: string;
  attributions: Attribution[];
  consents: ConsentRecord[];
  status: 'active' | 'terminated';
}

export type ResolveResult = { kind: 'matched'; member: Member; by: 'identifier' | 'demographics' } | { kind: 'unmatched' };

/** What routing asks the roster for each ADT event. */
export interface RosterLookup {
  /** Identifier precedence from config (systems in order); optional demographic match. */
  resolve(patient: {
    identifiers: MemberIdentifier[];
    family?: string;
    given?: string;
    birthDate?: string;
    sex?: string;
  }): Promise<ResolveResult>;
  /** Partners attributed on a date (YYYY-MM-DD), by role. */
  attributedOn(memberId: string, date: string, role: 'aco' | 'cp'): Promise<string[]>;
  /** Latest consent decision of this member for this partner and category. */
  hasConsent(memberId: string, partnerId: string, category: 'behavioral-health' | 'substance-use'): Promise<boolean>;
  /** Records an ADT event that matched no member (listed in the API, re-resolved after the next import). */
  recordUnmatched(event: UnmatchedInput): Promise<void>;
}

/** An ADT event whose patient matched no member. Recorded once per message id. */
export interface UnmatchedInput {
  messageId: string;
  receivedAt: Date;
  identifiers: MemberIdentifier[];
  /** The sending partner: scopes the event in the API (none: admin keys only). */
  partnerId?: string;
  /** Kept so a later import can match on demographics when demographic matching is on. */
  family?: string;
  given?: string;
  birthDate?: string;
  sex?: string;
}
