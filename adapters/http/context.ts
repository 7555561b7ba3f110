import type { FastifyInstance } from 'fastify';
import type { BrumeConfig } from '../runtime/config.ts';
import type { Brume } from '../runtime/brume.ts';
import type { BootScriptResponder } from './boot-script-responder.ts';
import type { BootHttpConfig } from './routes/boot.ts';

/** The part of the configuration the HTTP server reads. */
export type HttpConfig = Pick<BrumeConfig, 'httpHost' | 'httpPort' | 'logLevel' | 'sessionTtlSeconds'>
  & Partial<Pick<BrumeConfig, 'trustProxy' | 'strictResponses'>> & {
  /** Where booting machines reach brume and how their menu behaves; defaults suit tests. */
  boot?: BootHttpConfig;
};

/** What every route module gets: the running brume and the configuration. */
export interface RouteContext {
  brume: Brume;
  config: HttpConfig;
  /** The iPXE script answers, shared by the boot route and the server's fast path (one menu cache). */
  bootScripts: BootScriptResponder;
}

/** One resource's routes, registered on the authenticated API scope. */
export type RouteModule = (api: FastifyInstance, context: RouteContext) => void;
