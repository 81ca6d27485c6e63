import { openRosterStore } from '../../../../src/roster/roster-store.js';
import { CRASH_FILE, crashFileItems } from './roster-items.js';

// Child process of the crash test: imports day 2's file into an existing roster and, once the
// importer has pulled `stopAt` rows (so the chunks before them committed: a row is pulled only
// after the previous chunk's transaction), says so and hangs mid-file until the parent kills it (-9).

const [file, rows, chunk, stopAt] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5])];
// Chunks of exactly `chunk` rows: on a loaded machine the adaptive sizer (chunk-sizer.ts) would
// shrink them towards 50, and fewer whole chunks than the parent expects would have committed
// when it kills this process (the test failed that way under heavy load).
const roster = await openRosterStore(`sqlite:${file}`, { chunkSize: chunk, chunkTargetMs: 1e9 });
let pulled = 0;
async function* items() {
  for (const item of crashFileItems(rows, 2)) {
    pulled++;
    if (pulled === stopAt) {
      process.stdout.write(`pulled ${pulled}\n`);
      setInterval(() => {}, 1000); // keep the process alive while it waits for SIGKILL
      await new Promise(() => {});
    }
    yield item;
  }
}
await roster.importMemberFile({ ...CRASH_FILE, items: items() });
process.stdout.write('finished\n');
await roster.close();
