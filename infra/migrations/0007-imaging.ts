import { sql, type Kysely } from 'kysely';

/**
 * Imaging: which image revision each host carries (the last deploy that
 * completed on it), which revision a task moved, and when its client last
 * reported (the stale-task watcher fails in-progress tasks whose client went
 * silent, so none stays "in progress" forever as in FOG before 1.6).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE rm_hosts ADD COLUMN IF NOT EXISTS deployed_image_id text`.execute(db);
  await sql`ALTER TABLE rm_hosts ADD COLUMN IF NOT EXISTS deployed_revision integer`.execute(db);
  await sql`ALTER TABLE rm_hosts ADD COLUMN IF NOT EXISTS deployed_at timestamptz`.execute(db);
  await sql`ALTER TABLE rm_tasks ADD COLUMN IF NOT EXISTS image_revision integer`.execute(db);
  await sql`ALTER TABLE rm_tasks ADD COLUMN IF NOT EXISTS last_report_at timestamptz`.execute(db);
  await sql`CREATE INDEX IF NOT EXISTS rm_tasks_in_progress ON rm_tasks (last_report_at) WHERE state = 'in-progress'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS rm_tasks_in_progress`.execute(db);
  for (const column of ['deployed_image_id', 'deployed_revision', 'deployed_at']) {
    await sql`ALTER TABLE rm_hosts DROP COLUMN IF EXISTS ${sql.ref(column)}`.execute(db);
  }
  for (const column of ['image_revision', 'last_report_at']) {
    await sql`ALTER TABLE rm_tasks DROP COLUMN IF EXISTS ${sql.ref(column)}`.execute(db);
  }
}
