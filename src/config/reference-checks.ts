/**
 * What `carebridge check` (and `start`, before it opens anything) verifies beyond the config file
 * itself: every file the config points to loads and validates — mapping profiles, member layouts
 * (with their partner code maps), drop folders — and every destination can carry what it is
 * given. One line per problem, naming the file and the key.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { loadMemberLayout, MEMBER_FORMAT_OF_SOURCE, memberLayoutPath } from '../ingest/member-partners.js';
import { loadProfile, ProfileError } from '../mapping/profile-loader.js';
import { formatKeyPath, type KeyPath } from './errors.js';
import type { GatewayConfig } from './types.js';
import { partnerWiringProblems } from './wiring-checks.js';

function folderProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a folder`;
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${dir} does not exist` : `cannot use ${dir} (${code ?? 'error'}; files are read and moved out of it)`;
  }
}

export function referenceProblems(config: GatewayConfig): string[] {
  const problems: string[] = [];
  const inConfig = (path: KeyPath, problem: string) => problems.push(`${config.configFile}: ${formatKeyPath(path)}: ${problem}`);
  const loading = (fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ProfileError) problems.push(e.message);
      else throw e;
    }
  };

  // Mapping profiles: the base and each partner's overlay.
  loading(() => loadProfile({ mappingsDir: config.mappings.dir }));
  for (const partner of Object.values(config.partners)) {
    if (partner.profile !== undefined) loading(() => loadProfile({ partner: partner.profile, mappingsDir: config.mappings.dir }));
  }

  // Member layouts of the file sources, and the partners their code maps name.
  const partners = new Set(Object.keys(config.partners));
  config.sources.forEach((source, i) => {
    if (source.type !== 'sftp' && source.type !== 'directory') return;
    if (source.type === 'directory') {
      const problem = folderProblem(source.path);
      if (problem) inConfig(['sources', i, 'path'], problem);
    }
    const format = MEMBER_FORMAT_OF_SOURCE[source.format];
    if (!format) return; // care-plan CSV files have a fixed layout
    loading(() => {
      const layout = loadMemberLayout({ partner: source.partner, format, mappingsDir: config.mappings.dir });
      for (const [role, codes] of Object.entries(layout.partnerCodes)) {
        for (const [code, partnerId] of Object.entries(codes ?? {})) {
          if (!partners.has(partnerId)) {
            problems.push(
              `${memberLayoutPath(source.partner, format, config.mappings.dir)}: partnerCodes.${role}.${code}: '${partnerId}' is not a configured partner (sources[${i}])`,
            );
          }
        }
      }
    });
  });

  const destinations = new Set(config.destinations.map((d) => d.id));
  config.careplans.weeklyStatus.files.forEach((f, i) => {
    if (!partners.has(f.partner)) inConfig(['careplans', 'weeklyStatus', 'files', i, 'partner'], `unknown partner '${f.partner}'`);
    if (!destinations.has(f.destination))
      inConfig(['careplans', 'weeklyStatus', 'files', i, 'destination'], `unknown destination '${f.destination}'`);
  });
  // What each destination is given must be something its type takes: care plans, roster notices,
  // status files, attributed routes' events (wiring-checks.ts).
  for (const w of partnerWiringProblems(config)) inConfig(w.path, w.problem);
  return problems;
}
