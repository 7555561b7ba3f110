import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyServerFactory } from 'fastify';

/** Answers a request itself and returns true, or returns false to leave it to fastify. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * A fastify `serverFactory` whose server offers each request to the fast
 * paths before fastify sees it. It sets the timeouts fastify sets on the
 * servers it makes itself (a custom factory skips that).
 *
 * @example
 * Fastify({ serverFactory: serverWithFastPaths([bootScriptFastPath(scripts)]) });
 */
export function serverWithFastPaths(paths: FastPath[]): FastifyServerFactory {
  return (handler, fastifyOptions) => {
    // fastify has filled in its defaults by the time it calls the factory.
    const options = fastifyOptions as { http?: ServerOptions; keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number };
    const server: Server = createServer(options.http ?? {}, (request, response) => {
      for (const path of paths) if (path(request, response)) return;
      handler(request, response);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
