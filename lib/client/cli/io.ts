import type { Writable } from 'node:stream';
import type { ShardlogClient } from '../client.js';

/** Output stream as the CLI sees it: a Writable that may be a terminal. */
type CliWritable = Writable & { isTTY?: boolean; columns?: number };

/** The calls the CLI makes: those of a `ShardlogClient`, or of an in-memory fake in tests. */
export type CliClient = Pick<
  ShardlogClient,
  | 'createTopic'
  | 'listTopics'
  | 'describeTopic'
  | 'deleteTopic'
  | 'fetch'
  | 'producer'
  | 'consumer'
  | 'listGroups'
  | 'describeGroup'
  | 'resetOffsets'
  | 'subscribe'
  | 'unsubscribe'
  | 'deleteGroup'
  | 'runMaintenance'
  | 'shareConsumer'
  | 'listShareGroups'
  | 'describeShareGroup'
  | 'deleteShareGroup'
>;

/** Everything the CLI touches outside itself, injected so tests run it in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: CliWritable;
  stderr: CliWritable;
  env: Record<string, string | undefined>;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop cleanly (commit, leave, summary). */
  signal?: AbortSignal;
  /** Size of stdin when it is a regular file, so `produce` can show a real progress bar. */
  stdinBytes?: number;
  /** The client for the resolved URL; tests give an in-memory fake. Default: a `ShardlogClient` of that URL. */
  connect?: (url: string) => CliClient;
}

/** Reports a failure a consumer survives on its own (it retries, rejoins): once per failure, on stderr. */
export function warnOnStderr(io: CliIo): (error: unknown) => void {
  return (error) => void io.stderr.write(`shardlog: warning: ${(error as Error).message ?? String(error)}\n`);
}

/**
 * Writes one line and waits for `drain` when the stream's buffer is full, so `consume | slow-reader` holds
 * memory flat instead of queueing the whole topic. Resolves `false` once the reader went away (EPIPE).
 */
export function writeLine(stream: CliWritable, line: string): Promise<boolean> | boolean {
  if (stream.destroyed || !stream.writable) return false;
  if (stream.write(line + '\n')) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    stream.once('drain', onDrain);
    stream.once('close', onClose);
    stream.once('error', onClose);
  });
}

/**
 * A one-line progress display on a terminal's stderr, redrawn at most every 100 ms: a bar when the total is
 * known (stdin is a file), else a running count and rate. Does nothing when stderr is not a TTY, so piped and
 * logged runs stay clean.
 */
export class Progress {
  private lastDraw = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly stream: CliWritable,
    private readonly totalBytes: number | undefined,
  ) {}

  update(records: number, bytesRead: number, force = false): void {
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = Math.max((now - this.started) / 1000, 0.001);
    const rate = `${formatCount(Math.round(records / seconds))} rec/s`;
    let line: string;
    if (this.totalBytes && this.totalBytes > 0) {
      const fraction = Math.min(1, bytesRead / this.totalBytes);
      const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - 50));
      const filled = Math.round(fraction * width);
      line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatCount(records)} records  ${rate}`;
    } else {
      line = `${formatCount(records)} records acknowledged  ${rate}`;
    }
    this.stream.write(`\r\u001b[2K${line}`);
    this.drawn = true;
  }

  /** Clears the line so the summary starts at column 0. */
  clear(): void {
    if (this.drawn && this.stream.isTTY) this.stream.write('\r\u001b[2K');
  }
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
