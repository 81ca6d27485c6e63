import type { GatewayConfig } from '../config/types.js';
import { loadProfile } from '../mapping/profile-loader.js';
import type { MappingProfile } from '../mapping/profile-schema.js';

/**
 * Every partner's mapping profile (its overlay over the shipped base), loaded now so that a
 * broken profile fails the start rather than the first message; one shared profile per overlay.
 */
export function loadMappingProfiles(config: GatewayConfig): (partnerId: string | undefined) => MappingProfile {
  const profiles = new Map<string, MappingProfile>();
  const profileFor = (partnerId: string | undefined): MappingProfile => {
    const overlay = partnerId ? config.partners[partnerId]?.profile : undefined;
    const key = overlay ?? '';
    let profile = profiles.get(key);
    if (!profile) {
      profile = loadProfile({ partner: overlay, mappingsDir: config.mappings.dir });
      profiles.set(key, profile);
    }
    return profile;
  };
  for (const id of Object.keys(config.partners)) profileFor(id);
  profileFor(undefined);
  return profileFor;
}
