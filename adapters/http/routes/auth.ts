import { commandMeta } from '../../runtime/brume.ts';
import { permissionsOf, SESSION_COOKIE, userOf } from '../auth.ts';
import { fromDomainError, HttpError } from '../errors.ts';
import type { RouteModule } from '../context.ts';
import { doc, nonEmpty, object, publicDoc } from '../schemas.ts';
import { noContent, replies } from '../response-schemas/index.ts';
import { Login, SessionUser } from '../response-schemas/user.ts';

/** Sign in with a password (a session cookie), sign out, and who am I. */
export const authRoutes: RouteModule = (api, { brume, config }) => {
  api.post<{ Body: { username: string; password: string } }>('/api/auth/login', {
    config: { access: 'public' },
    schema: {
      ...publicDoc('auth', 'Sign in: sets the httpOnly session cookie brume_session'),
      body: object({ username: nonEmpty(64), password: nonEmpty(1024) }, ['username', 'password']),
      response: replies({ 200: Login }, { 401: 'wrong username or password, or a disabled account' }),
    },
  }, async (request, reply) => {
    const { username, password } = request.body;
    const account = await brume.credentials.checkPassword(username, password);
    if (!account) throw new HttpError(401, 'unauthorized', 'wrong username or password (or the account is disabled)');
    const fact = await brume.commands.users.recordFact(commandMeta(account.userId), account.userId, { type: 'UserLoggedIn', data: {} });
    if (!fact.ok) throw fromDomainError(fact.error);
    // Once the read models have seen the login, every later history query shows it too.
    await brume.settle(fact.position);
    const secret = await brume.credentials.createSession(account.userId, config.sessionTtlSeconds);
    const expiresAt = new Date(Date.now() + config.sessionTtlSeconds * 1000);
    reply.setCookie(SESSION_COOKIE, secret, {
      httpOnly: true, sameSite: 'strict', path: '/', secure: request.protocol === 'https', expires: expiresAt,
    });
    return { user: { id: account.userId, username, role: account.role }, expiresAt: expiresAt.toISOString() };
  });

  api.post('/api/auth/logout', {
    config: { access: 'authenticated' },
    schema: { ...doc('auth', 'Sign out: ends this session (an API token stays valid)'), response: replies({ 204: noContent }) },
  }, async (request, reply) => {
    const session = request.cookies[SESSION_COOKIE];
    if (session) await brume.credentials.endSession(session);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  api.get('/api/auth/me', {
    config: { access: 'authenticated' },
    schema: { ...doc('auth', 'The signed-in user, their role and what it permits'), querystring: object({}), response: replies({ 200: SessionUser }) },
  }, async (request) => {
    const user = userOf(request);
    return { id: user.id, username: user.username, role: user.role, via: user.via, permissions: permissionsOf(user.role) };
  });
};
