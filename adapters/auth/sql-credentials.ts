import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Credentials } from '../../core/application/ports.ts';
import type { Schema } from '../database/schema.ts';
import { hashPassword, newSecret, verifyPassword } from './passwords.ts';

/** Tokens and session ids are stored as SHA-256 digests: a leaked table opens no session. */
export const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** Password hashes, API tokens and login sessions, in tables the event log never copies. */
export class SqlCredentials implements Credentials {
  constructor(private readonly db: Kysely<Schema>) {}

  async setPassword(userId: string, password: string): Promise<void> {
    const hash = await hashPassword(password);
    await this.db.insertInto('credentials').values({ user_id: userId, password_hash: hash })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ password_hash: hash })).execute();
  }

  /** The user id for a username and password, if they match an enabled account. */
  async checkPassword(username: string, password: string): Promise<{ userId: string; role: string } | null> {
    const row = await this.db.selectFrom('rm_users as u').innerJoin('credentials as c', 'c.user_id', 'u.user_id')
      .select(['u.user_id', 'u.role', 'u.disabled', 'c.password_hash']).where('u.username', '=', username).executeTakeFirst();
    // Verify even for unknown users so response time does not reveal which usernames exist.
    const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    if (!row || !ok || row.disabled) return null;
    return { userId: row.user_id, role: row.role };
  }

  async createSession(userId: string, ttlSeconds: number): Promise<string> {
    const secret = newSecret();
    await this.db.insertInto('sessions').values({
      session_hash: digest(secret), user_id: userId, expires_at: new Date(Date.now() + ttlSeconds * 1000),
    }).execute();
    return secret;
  }

  async endSession(secret: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('session_hash', '=', digest(secret)).execute();
  }

  async createToken(userId: string, tokenId: string, name: string, expiresAt: Date | null): Promise<string> {
    const secret = `brume_${newSecret()}`;
    await this.db.insertInto('api_tokens').values({
      token_id: tokenId, user_id: userId, token_hash: digest(secret), name, expires_at: expiresAt, revoked_at: null,
    }).execute();
    return secret;
  }

  /** Ends every session and revokes every token of a user (when the account is disabled). */
  async cutOff(userId: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await this.db.updateTable('api_tokens').set({ revoked_at: new Date() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }

  /** A user's tokens (never their secrets), newest first. */
  async listTokens(userId: string) {
    const rows = await this.db.selectFrom('api_tokens').select(['token_id', 'name', 'created_at', 'expires_at', 'revoked_at'])
      .where('user_id', '=', userId).orderBy('created_at', 'desc').execute();
    return rows.map((r) => ({ id: r.token_id, name: r.name, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at }));
  }

  /** Revokes a token; returns its owner, or null when there is no such live token (of that owner, when given). */
  async revokeToken(tokenId: string, ownerId: string | null): Promise<string | null> {
    let query = this.db.updateTable('api_tokens').set({ revoked_at: new Date() })
      .where('token_id', '=', tokenId).where('revoked_at', 'is', null);
    if (ownerId !== null) query = query.where('user_id', '=', ownerId);
    const row = await query.returning('user_id').executeTakeFirst();
    return row?.user_id ?? null;
  }

  /** Who a session cookie or bearer token belongs to, if it is valid now. */
  async identify(kind: 'session' | 'token', secret: string): Promise<{ userId: string; username: string; role: string } | null> {
    const now = new Date();
    const hash = digest(secret);
    const query = kind === 'session'
      ? this.db.selectFrom('sessions as s').innerJoin('rm_users as u', 'u.user_id', 's.user_id')
        .select(['u.user_id', 'u.username', 'u.role', 'u.disabled']).where('s.session_hash', '=', hash).where('s.expires_at', '>', now)
      : this.db.selectFrom('api_tokens as t').innerJoin('rm_users as u', 'u.user_id', 't.user_id')
        .select(['u.user_id', 'u.username', 'u.role', 'u.disabled']).where('t.token_hash', '=', hash).where('t.revoked_at', 'is', null)
        .where((eb) => eb.or([eb('t.expires_at', 'is', null), eb('t.expires_at', '>', now)]));
    const row = await query.executeTakeFirst();
    if (!row || row.disabled) return null;
    return { userId: row.user_id, username: row.username, role: row.role };
  }
}

const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
