/**
 * MSH-3^MSH-4 sender patterns (`EPICADT^MGH`, `EPIC^*`, `*^MGH`): `*` stands for any text. Used by
 * route rules and by partners' `senders`, which both name who a message comes from.
 */
export function senderMatches(pattern: string, sender: string): boolean {
  if (!pattern.includes('*')) return pattern === sender;
  return patternRegExp(pattern).test(sender);
}

function patternRegExp(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** Partners' declared senders: which partner a sender belongs to, and whether it belongs to a given one. */
export class SenderDirectory {
  private readonly exact = new Map<string, string>();
  private readonly wildcards: { partnerId: string; re: RegExp }[] = [];
  private readonly byPartner = new Map<string, ((sender: string) => boolean)[]>();

  constructor(partners: Readonly<Record<string, { senders?: readonly string[] }>>) {
    for (const [partnerId, partner] of Object.entries(partners)) {
      const tests: ((sender: string) => boolean)[] = [];
      for (const pattern of partner.senders ?? []) {
        if (pattern.includes('*')) {
          const re = patternRegExp(pattern);
          this.wildcards.push({ partnerId, re });
          tests.push((s) => re.test(s));
        } else {
          if (!this.exact.has(pattern)) this.exact.set(pattern, partnerId);
          tests.push((s) => s === pattern);
        }
      }
      this.byPartner.set(partnerId, tests);
    }
  }

  /** The partner declaring this sender (an exact pattern wins over a wildcard), or undefined. */
  partnerFor(sender: string): string | undefined {
    return this.exact.get(sender) ?? this.wildcards.find((w) => w.re.test(sender))?.partnerId;
  }

  /** True when one of the partner's `senders` patterns matches. A partner declaring none has no senders. */
  isSenderOf(partnerId: string, sender: string): boolean {
    return (this.byPartner.get(partnerId) ?? []).some((t) => t(sender));
  }
}
