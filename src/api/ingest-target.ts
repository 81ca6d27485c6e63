import type { GatewayConfig, HttpSourceConfig } from '../config/types.js';
import { CodedError } from '../errors/catalogue.js';
import { forbidden } from './api-error.js';
import { canSeePartner } from './scope.js';
import type { Principal } from './types.js';

export interface IngestTarget {
  sourceName: string;
  partnerId?: string;
}

export function httpSourceOf(config: GatewayConfig): HttpSourceConfig | undefined {
  return config.sources.find((s): s is HttpSourceConfig => s.type === 'http');
}

/**
 * Which source and partner an HTTP post belongs to. The source's own partner wins; on a shared
 * source a partner key stamps its partner (naming it with ?partner= when the key covers several),
 * so a partner cannot post messages that would be filed under another partner. An admin key may
 * name any configured partner, or none (the inbox then resolves it from MSH-3^MSH-4).
 */
export function resolveIngestTarget(config: GatewayConfig, who: Principal, requested: string | undefined): IngestTarget {
  const source = httpSourceOf(config);
  if (!source) throw new CodedError('CB_INGEST_NOT_CONFIGURED');
  const sourceName = source.id;
  if (requested !== undefined && !Object.hasOwn(config.partners, requested)) {
    throw new CodedError('CB_PARTNER_UNKNOWN');
  }
  if (source.partner !== undefined) {
    if (!canSeePartner(who, source.partner)) throw forbidden('this API key may not post to this source');
    if (requested !== undefined && requested !== source.partner) {
      throw new CodedError('CB_SENDER_NOT_PARTNER');
    }
    return { sourceName, partnerId: source.partner };
  }
  if (who.admin) return { sourceName, partnerId: requested };
  if (requested !== undefined) {
    if (!who.partners.includes(requested)) throw forbidden('this API key may not post for that partner');
    return { sourceName, partnerId: requested };
  }
  if (who.partners.length === 1) return { sourceName, partnerId: who.partners[0] };
  throw new CodedError('CB_PARTNER_REQUIRED', 'this API key covers several partners: name one with ?partner=');
}
