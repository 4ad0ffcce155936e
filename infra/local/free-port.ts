import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 by binding port 0 and releasing it at once.
 *
 * Only for children that cannot listen on port 0 themselves and report the port back (DynamoDB Local takes
 * `-port N` and prints nothing machine-readable). There is a short window in which another process may take
 * the port; callers that spawn a child on it retry on a bind failure.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
