// Everything the bench starts registers its stop here, so a normal end, an error, Ctrl-C or the
// overall deadline all stop the same set of processes, newest first.
//
// Miniflare installs its own SIGINT/SIGTERM hook that disposes workerd and calls process.exit() at
// once, so asynchronous stops cannot be relied on for signals: each registration can also give a
// synchronous `atExit` (send a signal, delete a folder) that runs from process 'exit' whatever ended it.

type Stop = () => Promise<void> | void;
interface Entry {
  name: string;
  stop: Stop;
  atExit?: () => void;
}
const entries: Entry[] = [];
let stopping: Promise<void> | null = null;

process.on("exit", () => {
  while (entries.length > 0) {
    const { atExit } = entries.pop()!;
    try {
      atExit?.();
    } catch {
      // exiting anyway: one failed kill must not keep the others from running
    }
  }
});

/** Registers `stop` to run at shutdown (and `atExit` if the process exits first); returns a function that stops it now, once. */
export function onCleanup(name: string, stop: Stop, atExit?: () => void): () => Promise<void> {
  const entry: Entry = { name, stop, atExit };
  entries.push(entry);
  return async () => {
    const i = entries.indexOf(entry);
    if (i < 0) return;
    entries.splice(i, 1);
    await entry.stop();
  };
}

/** Stops everything registered, newest first; safe to call more than once. */
export function cleanupAll(): Promise<void> {
  stopping ??= (async () => {
    while (entries.length > 0) {
      const { name, stop } = entries.pop()!;
      try {
        await Promise.race([stop(), new Promise((r) => setTimeout(r, 5_000))]);
      } catch (err) {
        console.error(`stopping ${name} failed:`, err);
      }
    }
  })();
  return stopping;
}

/** Runs `main` with signal handlers and a hard deadline; every path ends in cleanupAll() or, on signals, the atExit hooks. */
export async function runGuarded(main: () => Promise<void>, deadlineMs: number): Promise<never> {
  const bail = (why: string, code: number) => {
    console.error(`\nbench: ${why}; stopping everything it started…`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.once("SIGINT", () => bail("interrupted", 130));
  process.once("SIGTERM", () => bail("terminated", 143));
  const deadline = setTimeout(() => bail(`over the ${Math.round(deadlineMs / 1000)} s deadline`, 1), deadlineMs);
  deadline.unref();
  let code = 0;
  try {
    await main();
  } catch (err) {
    console.error("bench failed:", err);
    code = 1;
  }
  await cleanupAll();
  process.exit(code);
}
