import { randomUUID } from 'node:crypto';
import { userOf } from '../auth.ts';
import { commandMetaOf, valueOf } from '../command.ts';
import { HttpError, notFound } from '../errors.ts';
import type { RouteModule } from '../context.ts';
import { doc, integer, nonEmpty, object } from '../schemas.ts';
import { noContent, replies } from '../response-schemas/index.ts';
import { ApiTokenList, IssuedToken } from '../response-schemas/user.ts';

const DAY_MS = 24 * 3600 * 1000;

/** API tokens for scripts: issued to the caller, shown once, recorded in the history without the secret. */
export const tokenRoutes: RouteModule = (api, { brume }) => {
  api.post<{ Body: { name: string; expiresInDays?: number } }>('/api/tokens', {
    config: { access: 'authenticated' },
    schema: {
      ...doc('auth', 'Issue an API token for yourself; send it as "Authorization: Bearer <token>". The token is shown only in this answer.'),
      body: object({ name: nonEmpty(100, 'what the token is for'), expiresInDays: integer(1, 3650, 'lifetime; no expiry when absent') }, ['name']),
      response: replies({ 201: IssuedToken }, { 409: 'this Idempotency-Key already issued a token (its secret is shown only once)' }),
    },
  }, async (request, reply) => {
    const user = userOf(request);
    const tokenId = randomUUID();
    const name = request.body.name.trim();
    const days = request.body.expiresInDays;
    const expiresAt = days === undefined ? null : new Date(Date.now() + days * DAY_MS);
    const outcome = await brume.commands.users.recordFact(commandMetaOf(request), user.id, {
      type: 'ApiTokenIssued', data: { tokenId, name, expiresAt: expiresAt?.toISOString() ?? null },
    });
    valueOf(reply, outcome, 'userId');
    if (outcome.ok && outcome.replayed) {
      throw new HttpError(409, 'conflict', 'a token was already issued for this Idempotency-Key and its secret is shown only once; issue a new token with a new key', {
        field: 'Idempotency-Key',
      });
    }
    if (outcome.ok) await brume.settle(outcome.position);
    const token = await brume.credentials.createToken(user.id, tokenId, name, expiresAt);
    return reply.code(201).send({ id: tokenId, name, userId: user.id, expiresAt: expiresAt?.toISOString() ?? null, token });
  });

  api.get('/api/tokens', {
    config: { access: 'authenticated' },
    schema: { ...doc('auth', 'Your API tokens: names, dates and whether they were revoked; never the secrets.'), response: replies({ 200: ApiTokenList }) },
  }, async (request) => ({ items: await brume.credentials.listTokens(userOf(request).id) }));

  api.delete<{ Params: { id: string } }>('/api/tokens/:id', {
    config: { access: 'authenticated' },
    schema: {
      ...doc('auth', 'Revoke one of your API tokens (admins may revoke anyone\'s); it stops working at once.'),
      response: replies({ 204: noContent }, { 404: 'no such live token of yours' }),
    },
  }, async (request, reply) => {
    const user = userOf(request);
    const owner = await brume.credentials.revokeToken(request.params.id, user.role === 'admin' ? null : user.id);
    if (!owner) throw notFound(`you have no live token ${request.params.id}`);
    const outcome = await brume.commands.users.recordFact(commandMetaOf(request), owner, { type: 'ApiTokenRevoked', data: { tokenId: request.params.id } });
    valueOf(reply, outcome, 'userId');
    if (outcome.ok) await brume.settle(outcome.position);
    return reply.code(204).send();
  });
};
