#!/usr/bin/env node
// tsc writes dist/ files without the executable bit, and npm only sets it on the bins of
// installed dependencies, never on the root package's own: without this, `npx carebridge` (the
// README's quick start) fails with "Permission denied" on a fresh checkout.
import { chmodSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { bin } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of Object.values(typeof bin === 'string' ? { bin } : bin)) chmodSync(join(root, file), 0o755);
