import type { FastifyInstance } from 'fastify';
import type { Brume } from '../runtime/brume.ts';
import { buildApp, type BuildOptions } from './app.ts';
import type { HttpConfig } from './context.ts';

export { buildApp } from './app.ts';

/**
 * Builds the app and listens on the configured address. A port that cannot
 * be bound is an Error saying which, why and what to do, for the caller to
 * print without a stack trace.
 */
export async function startHttpServer(brume: Brume, config: HttpConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = buildApp(brume, config, options);
  try {
    await app.listen({ host: config.httpHost, port: config.httpPort });
  } catch (error) {
    await app.close().catch(() => {});
    throw new Error(listenFailure(error as NodeJS.ErrnoException, config), { cause: error });
  }
  return app;
}

function listenFailure(error: NodeJS.ErrnoException, { httpHost, httpPort }: HttpConfig): string {
  const where = `port ${httpPort} on ${httpHost}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: another program is already using it. Stop that program (e.g. "ss -ltnp | grep :${httpPort}" shows which) or set BRUME_HTTP_PORT to a free port.`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied. Ports below 1024 need root or CAP_NET_BIND_SERVICE; set BRUME_HTTP_PORT to 1024 or above (e.g. 8080), or grant the capability.`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${httpHost} is not an address of this machine. Set BRUME_HTTP_HOST to one of its addresses, or 0.0.0.0 for all.`;
    default:
      return `cannot listen on ${where}: ${error.message}`;
  }
}
