// Child process for the durability test: commits batches with the SQLite store and reports each batch
// on stdout only after acceptInbound resolved -- exactly when the inbox would send the ACKs.
// The parent kills it with SIGKILL at an arbitrary point and checks every reported id on reopen.
import { openSqliteStore } from '../../../../src/store/open-store.js';

const [file, batchSizeArg, runTag = 'run'] = process.argv.slice(2);
const batchSize = Number(batchSizeArg ?? '20');
const store = openSqliteStore(file);

let batchNo = 0;
for (;;) {
  const batch = Array.from({ length: batchSize }, (_, i) => ({
    sourceKind: 'mllp' as const,
    sourceName: 'durability',
    controlId: `B${batchNo}-${i}`,
    dedupeKey: `durability|${runTag}|B${batchNo}-${i}`,
    raw: Buffer.from(`MSH|^~\\&|A|B|C|D|20250101||ADT^A01|B${batchNo}-${i}|P|2.5.1\r`),
  }));
  const results = await store.acceptInbound(batch);
  process.stdout.write(`ACKED ${JSON.stringify(results.map((r) => r.id))}\n`);
  batchNo++;
}
