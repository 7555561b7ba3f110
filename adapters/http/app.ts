import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Brume } from '../runtime/brume.ts';
import { authenticate, SESSION_COOKIE } from './auth.ts';
import type { HttpConfig, RouteModule } from './context.ts';
import { installErrorHandling } from './errors.ts';
import { addResponseSchemas } from './response-schemas/index.ts';
import { installStrictResponses } from './strict-responses.ts';
import { serveUi } from './ui-static.ts';
import { BootScriptResponder, bootScriptFastPath } from './boot-script-responder.ts';
import { serverWithFastPaths } from './fast-paths.ts';
import { authRoutes } from './routes/auth.ts';
import { bootRoutes, DEFAULT_BOOT_HTTP_CONFIG } from './routes/boot.ts';
import { bootActivityRoutes } from './routes/boot-activity.ts';
import { clientTaskRoutes } from './routes/client-tasks.ts';
import { clientRegistrationRoutes } from './routes/client-registration.ts';
import { imageRevisionRoutes } from './routes/image-revisions.ts';
import { eventRoutes } from './routes/events.ts';
import { groupRoutes } from './routes/groups.ts';
import { healthRoutes } from './routes/health.ts';
import { hostImportRoutes } from './routes/host-import.ts';
import { hostRoutes } from './routes/hosts.ts';
import { hostHistoryRoutes } from './routes/host-history.ts';
import { imageRoutes } from './routes/images.ts';
import { queueRoutes } from './routes/queues.ts';
import { storageNodeRoutes } from './routes/storage-nodes.ts';
import { streamRoutes } from './routes/stream.ts';
import { taskTypeRoutes } from './routes/task-types.ts';
import { taskRoutes } from './routes/tasks.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { userRoutes } from './routes/users.ts';

export type { HttpConfig } from './context.ts';

const ROUTES: RouteModule[] = [
  healthRoutes, authRoutes, tokenRoutes, hostRoutes, hostHistoryRoutes, hostImportRoutes, groupRoutes, imageRoutes,
  storageNodeRoutes, taskRoutes, taskTypeRoutes, eventRoutes, userRoutes, bootRoutes, bootActivityRoutes, clientTaskRoutes, clientRegistrationRoutes, imageRevisionRoutes,
  queueRoutes, streamRoutes,
];

/** JSON bodies; the CSV import raises its own limit. */
const JSON_BODY_LIMIT = 1024 * 1024;

export interface BuildOptions {
  /** Called for every route as it is registered (tests enumerate the routes with it). */
  onRoute?: (route: RouteOptions) => void;
  /**
   * Check every JSON answer against its response schema and fail the request
   * (500) when it does not match (strict-responses.ts). Tests turn it on;
   * otherwise BRUME_STRICT_RESPONSES=1 does.
   */
  strictResponses?: boolean;
}

/**
 * The HTTP API on one brume, not listening: `startHttpServer` listens, tests
 * call `app.inject`. Every API route sits in one scope whose onRequest hook
 * authenticates and checks the route's permission; the docs and the
 * OpenAPI document sit outside it.
 */
export function buildApp(brume: Brume, config: HttpConfig, options: BuildOptions = {}): FastifyInstance {
  const bootScripts = new BootScriptResponder(brume, config.boot ?? DEFAULT_BOOT_HTTP_CONFIG);
  const app = Fastify({
    // Behind a proxy the client's address comes from its headers: leave every request to fastify then.
    ...(config.trustProxy ? {} : { serverFactory: serverWithFastPaths([bootScriptFastPath(bootScripts, (): FastifyBaseLogger => app.log)]) }),
    logger: { level: config.logLevel },
    bodyLimit: JSON_BODY_LIMIT,
    exposeHeadRoutes: false,
    trustProxy: config.trustProxy ?? false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, allowUnionTypes: true } },
  });
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  installErrorHandling(app);
  addResponseSchemas(app);
  if (options.strictResponses ?? config.strictResponses) installStrictResponses(app);

  app.register(cookie);
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'brume API',
        version: '1',
        description: 'Hosts, images, groups, storage nodes, tasks and their history. Sign in with POST /api/auth/login '
          + '(a session cookie) or send an API token (POST /api/tokens) as "Authorization: Bearer <token>". '
          + 'Commands accept Idempotency-Key (a retry has no second effect), If-Match (the version you read) and X-Correlation-Id. '
          + 'Errors are { error, message, field?, currentVersion? }.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    // Shared schemas keep their $id as their name in components.schemas (the default is def-<n>).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  serveUi(app);

  app.register(async (api) => {
    api.decorateRequest('user', null);
    api.addHook('onRequest', authenticate(brume.credentials));
    for (const routes of ROUTES) routes(api, { brume, config, bootScripts });
  });
  return app;
}
