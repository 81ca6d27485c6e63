import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

// The import boundaries live in eslint.config.js; these cases prove the rules fire (and do not fire
// where imports are allowed), linting source text as if it were the named file.
const ROOT = join(import.meta.dirname, '../..');

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries (npm run lint)', () => {
  it('an engine module importing a specific adapter is an error', async () => {
    const errors = await boundaryErrors(
      'src/ingest/new-stage.ts',
      "import { hl7v2AdtAdapter } from '../../adapters/hl7v2-adt/index.js';\nexport const a = hl7v2AdtAdapter;\n",
    );
    expect(errors).toEqual([expect.stringContaining('must not import a specific adapter')]);
  });

  it('so is a type-only import, or the adapters index', async () => {
    expect(
      await boundaryErrors(
        'src/delivery/x.ts',
        "import type { MemberItem } from '../../adapters/member-common/types.js';\nexport type X = MemberItem;\n",
      ),
    ).toHaveLength(1);
    expect(
      await boundaryErrors('src/api/routes/x.ts', "import { adapters } from '../../../adapters/index.js';\nexport const a = adapters;\n"),
    ).toHaveLength(1);
  });

  it('the adapter registry (src/conversion/builtin.ts) may import adapters', async () => {
    expect(
      await boundaryErrors(
        'src/conversion/builtin.ts',
        "import { adapters } from '../../adapters/index.js';\nexport const a = adapters;\n",
      ),
    ).toEqual([]);
  });

  it('an adapter reaching into care-plan or config internals is an error', async () => {
    const careplan = await boundaryErrors(
      'adapters/new-format/read.ts',
      "import { cpPlanIdSystem } from '../../src/careplan/submission.js';\nexport const a = cpPlanIdSystem;\n",
    );
    const config = await boundaryErrors(
      'adapters/new-format/read.ts',
      "import { formatKeyPath } from '../../src/config/errors.js';\nexport const a = formatKeyPath;\n",
    );
    expect(careplan).toEqual([expect.stringContaining('src/careplan or src/config internals')]);
    expect(config).toHaveLength(1);
  });

  it("an adapter may use the engine's public modules", async () => {
    const code =
      "import { CarePlanError } from '../../src/careplan/index.js';\nimport { parseHl7 } from '../../src/hl7v2/index.js';\nexport const a = [CarePlanError, parseHl7];\n";
    expect(await boundaryErrors('adapters/new-format/read.ts', code)).toEqual([]);
  });
});
