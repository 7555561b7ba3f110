import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainFailure, type DomainError } from '../../core/shared/result.ts';

/**
 * Every error the API answers is one JSON shape, so a client (and a person
 * reading it) always finds the same fields: what kind of failure, what to
 * do about it, which input was at fault, and the current version after a
 * lost race.
 */
export interface ErrorBody {
  error: string;
  message: string;
  field?: string;
  currentVersion?: number;
}

/** An error the API answers as is: a status and the body to send. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: { field?: string; currentVersion?: number } = {},
  ) {
    super(message);
  }

  get body(): ErrorBody {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

const DOMAIN_STATUS: Record<DomainError['code'], number> = {
  validation: 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
};

export function fromDomainError(error: DomainError): HttpError {
  const extra: { field?: string; currentVersion?: number } = {};
  if (error.field !== undefined) extra.field = error.field;
  if (error.code === 'conflict' && error.currentVersion !== undefined) extra.currentVersion = error.currentVersion;
  return new HttpError(DOMAIN_STATUS[error.code], error.code, error.message, extra);
}

export const badRequest = (message: string, field?: string) =>
  new HttpError(400, 'validation', message, field === undefined ? {} : { field });

export const notFound = (message: string) => new HttpError(404, 'not-found', message);

type AjvError = NonNullable<FastifyError['validation']>[number];

/** `/macs/0/mac` -> `macs[0].mac`, the way the domain names nested fields. */
function fieldOfPath(path: string): string {
  return path
    .split('/')
    .filter(Boolean)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

const PART_NAME: Record<string, string> = { body: 'body', querystring: 'query parameter', params: 'path parameter', headers: 'header' };

/** Turns the first JSON-schema failure into a message that names the field and says what it must be. */
export function describeValidation(errors: AjvError[], context: string): ErrorBody & { field: string } {
  const first = errors[0];
  const part = PART_NAME[context] ?? context;
  if (!first) return { error: 'validation', message: `the ${part} is not valid`, field: context };
  const base = fieldOfPath(first.instancePath);
  const params = first.params as Record<string, unknown>;
  const join = (name: string) => (base ? `${base}.${name}` : name);
  if (first.keyword === 'required') {
    const field = join(String(params.missingProperty));
    return { error: 'validation', message: `${field} is required`, field };
  }
  if (first.keyword === 'additionalProperties') {
    const field = join(String(params.additionalProperty));
    const where = context === 'body' ? (base ? `in ${base}` : 'in the body') : `as a ${part}`;
    return { error: 'validation', message: `"${field}" is not accepted ${where}; check the spelling against /api/docs`, field };
  }
  const field = base || context;
  const allowed = Array.isArray(params.allowedValues) ? `: ${params.allowedValues.join(', ')}` : '';
  const shown = context === 'body' || !base ? field : `${part} ${field}`;
  return { error: 'validation', message: `${shown} ${first.message ?? 'is not valid'}${allowed}`, field };
}

const FASTIFY_CODES: Record<number, string> = {
  400: 'validation',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
};

function problemOf(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.statusCode, body: error.body };
  if (error instanceof DomainFailure) {
    const mapped = fromDomainError(error.error);
    return { status: mapped.statusCode, body: mapped.body };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return { status: 400, body: describeValidation(fastifyError.validation, fastifyError.validationContext ?? 'body') };
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const body: ErrorBody = { error: FASTIFY_CODES[status] ?? 'bad-request', message: clientMessage(fastifyError, request) };
    if (status === 400) body.field = 'body';
    return { status, body };
  }
  return {
    status: 500,
    body: {
      error: 'internal',
      message: `something went wrong on the server (request ${request.id}); the details are in the server log`,
    },
  };
}

/** Fastify's own 4xx messages, reworded where they would leave a person guessing. */
function clientMessage(error: FastifyError, request: FastifyRequest): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the request body is larger than the ${Math.round(request.routeOptions.bodyLimit / 1024 / 1024)} MiB this endpoint accepts`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `this endpoint does not accept content-type ${request.headers['content-type'] ?? '(none)'}; /api/docs says what it takes`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the body is empty but content-type is application/json; send a JSON object or drop the header';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'the body is not valid JSON';
    default:
      return error.message;
  }
}

/** Installs the JSON error shape for every failure, including unknown routes. Server errors are logged, never shown. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply: FastifyReply) => {
    const { status, body } = problemOf(error, request);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="brume"');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      error: 'not-found',
      message: `there is no ${request.method} ${request.url.split('?')[0]}; the API is described at /api/docs`,
    };
    return reply.status(404).send(body);
  });
}
