import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import S3rver from 's3rver';

export interface S3LocalOptions {
  /**
   * Directory holding buckets and objects; created when missing. Omit for a throwaway temp directory that
   * `stop()` deletes (s3rver always stores on disk, so "in-memory" means "deleted afterwards").
   */
  readonly dataDir?: string;
  /** Port to listen on; 0 or omitted picks a free one. */
  readonly port?: number;
}

/** A running s3rver. */
export interface S3Local {
  /** `http://127.0.0.1:PORT`; clients must use path-style addressing (`forcePathStyle: true`). */
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  /** Closes the server (dropping kept-alive client connections) and deletes a temp directory. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver, an in-process S3 emulator, on 127.0.0.1. It serves path-style requests and range GETs but
 * has no lifecycle rules, so nothing local may rely on S3 expiring objects (the maintenance pass deletes
 * what expires; the bucket's lifecycle rules in infra/stateful-stack.ts are only a backstop).
 *
 * @example
 * const s3 = await startS3Local({ dataDir: '.shardlog/s3' });
 * // ... use s3.endpoint ...
 * await s3.stop();
 */
export async function startS3Local(options: S3LocalOptions = {}): Promise<S3Local> {
  const temporary = options.dataDir === undefined;
  const directory =
    options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'shardlog-s3-')) : resolvePath(options.dataDir);
  await mkdir(directory, { recursive: true });

  // silent: s3rver logs every request through winston, and Koa logs S3 errors (a missing key is normal here).
  // port 0: s3rver listens in-process, so the kernel's pick is race-free and run() tells us the result.
  const server = new S3rver({ address: '127.0.0.1', port: options.port ?? 0, silent: true, directory });
  let address;
  try {
    address = await server.run();
  } catch (error) {
    if (temporary) await rm(directory, { recursive: true, force: true });
    throw error;
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const closing = server.close();
      // The AWS SDK keeps connections alive; without this, close() would wait for them to time out.
      server.httpServer?.closeAllConnections();
      await closing;
      if (temporary) await rm(directory, { recursive: true, force: true });
    })();
    return stopped;
  };

  return { endpoint: `http://127.0.0.1:${address.port}`, port: address.port, directory, stop };
}
