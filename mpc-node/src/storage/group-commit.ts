// Group commit: many writers, one disk sync. A writer that needs its writes on disk asks for a
// sync and waits; a sync already running when it asks may have started before its writes, so it
// waits for the next one, which then covers every writer that asked meanwhile. Syncing runs off
// the event loop (fs.fdatasync on libuv's thread pool), so the node keeps serving while the disk
// works, where a synchronous fsync per write blocked it for milliseconds each time.
import { closeSync, fdatasync, openSync } from "node:fs";

export class GroupCommit {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly flush: () => Promise<void>) {}

  /** Resolves once every write made before this call is on disk; rejects if the sync failed. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    const after = this.running.then(
      () => {},
      () => {},
    );
    this.queued = after.then(() => {
      this.queued = null;
      return this.start();
    });
    return this.queued;
  }

  private start(): Promise<void> {
    const run: Promise<void> = this.flush().finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}

/** A group commit of `flush`, as a function. */
export function groupCommit(flush: () => Promise<void>): () => Promise<void> {
  const g = new GroupCommit(flush);
  return () => g.sync();
}

/** fdatasync through the thread pool. */
export function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

/**
 * A file synced by path, opened once it exists (a file that does not exist yet has nothing to
 * sync). The file must not be replaced while in use: SQLite's write-ahead log is not while the
 * database is open (checkpoints truncate it in place; only the last connection's close deletes it).
 */
export class PathSyncer {
  private fd: number | null = null;

  constructor(private readonly path: string) {}

  async sync(): Promise<void> {
    if (this.fd === null) {
      try {
        this.fd = openSync(this.path, "r");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        throw e;
      }
    }
    await fdatasyncAsync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
