import { sql, type Transaction } from 'kysely';
import type { Schema } from '../../adapters/database/schema.ts';

/**
 * A read-model table as projections see it: its primary key and which
 * columns hold JSON. Projections work on rows in memory; the cache loads
 * what they ask for and writes back only the final state of each row,
 * in a few bulk statements per batch. The same code therefore serves live
 * updates (small batches, rows loaded on demand) and rebuilds (the cache
 * starts empty and knows the tables are empty, so it never reads).
 */
export interface TableSpec {
  table: keyof Schema & `rm_${string}`;
  key: readonly string[];
  /** Which columns hold JSON. Informational: rows travel to the database as one JSON document, so JSON values need no encoding. */
  json?: readonly string[];
  /** Rows are only ever inserted; they are not kept in memory after a flush. */
  appendOnly?: boolean;
}

export type Row = Record<string, unknown>;

/** `stored`: whether the database holds the row as it was last read or written (undefined: not known). */
type Entry = { row: Row | undefined; dirty: boolean; stored: boolean | undefined };

export class RowCache {
  private readonly entries = new Map<string, Map<string, Entry>>();

  /**
   * @param authoritative the cache holds every row there is (a rebuild from empty tables),
   *   so a miss means "no such row" without asking the database.
   */
  constructor(
    private readonly trx: Transaction<Schema>,
    private readonly specs: ReadonlyMap<string, TableSpec>,
    private authoritative = false,
  ) {}

  withTransaction(trx: Transaction<Schema>): RowCache {
    const next = new RowCache(trx, this.specs, this.authoritative);
    for (const [table, rows] of this.entries) next.entries.set(table, rows);
    return next;
  }

  async get(table: TableSpec['table'], ...key: unknown[]): Promise<Row | undefined> {
    const rows = this.tableEntries(table);
    const k = keyOf(key);
    const cached = rows.get(k);
    if (cached) return cached.row;
    if (this.authoritative) return undefined;
    const spec = this.spec(table);
    let query = this.trx.selectFrom(table as 'rm_hosts').selectAll();
    spec.key.forEach((column, i) => {
      query = query.where(column as 'host_id', '=', key[i] as string);
    });
    const row = (await query.executeTakeFirst()) as Row | undefined;
    rows.set(k, { row, dirty: false, stored: row !== undefined });
    return row;
  }

  /** Rows whose `column` equals `value`: the database's (unless authoritative) overlaid with this batch's changes. */
  async where(table: TableSpec['table'], column: string, value: unknown): Promise<Row[]> {
    const spec = this.spec(table);
    const rows = this.tableEntries(table);
    if (!this.authoritative) {
      const found = (await this.trx.selectFrom(table as 'rm_hosts').selectAll().where(column as 'host_id', '=', value as string).execute()) as Row[];
      for (const row of found) {
        const k = keyOf(spec.key.map((c) => row[c]));
        if (!rows.has(k)) rows.set(k, { row, dirty: false, stored: true });
      }
    }
    return [...rows.values()].flatMap((e) => (e.row && e.row[column] === value ? [e.row] : []));
  }

  put(table: TableSpec['table'], row: Row): void {
    this.change(table, keyOf(this.spec(table).key.map((c) => row[c])), row);
  }

  delete(table: TableSpec['table'], ...key: unknown[]): void {
    this.change(table, keyOf(key), undefined);
  }

  private change(table: string, k: string, row: Row | undefined): void {
    const rows = this.tableEntries(table);
    const entry = rows.get(k);
    // A miss in an authoritative cache is a row the database does not hold either.
    rows.set(k, { row, dirty: true, stored: entry ? entry.stored : this.authoritative ? false : undefined });
  }

  /**
   * Writes every changed row: deletes, then upserts, a few thousand rows per
   * statement. A row deleted before it was ever written needs no statement.
   * `appendOnlyTables` flushes only append-only tables (a rebuild does so
   * after each batch to bound memory, and writes the rest once at the end).
   */
  async flush(options: { appendOnlyTables?: boolean } = {}): Promise<void> {
    for (const [table, rows] of this.entries) {
      const spec = this.spec(table);
      if (options.appendOnlyTables && !spec.appendOnly) continue;
      const deletes: unknown[][] = [];
      const upserts: Row[] = [];
      for (const [k, entry] of rows) {
        if (!entry.dirty) continue;
        entry.dirty = false;
        if (entry.row) upserts.push(entry.row);
        else if (entry.stored !== false) deletes.push(k.split('\u0000'));
        entry.stored = entry.row !== undefined;
        if (spec.appendOnly) rows.delete(k);
      }
      await this.deleteRows(spec, deletes);
      await this.upsertRows(spec, upserts);
    }
  }

  private async deleteRows(spec: TableSpec, keys: unknown[][]): Promise<void> {
    for (let i = 0; i < keys.length; i += 5000) {
      const chunk = keys.slice(i, i + 5000);
      const columns = spec.key.map((c) => sql.ref(c));
      const arrays = spec.key.map((_, j) => sql`${chunk.map((k) => String(k[j]))}::text[]`);
      await sql`DELETE FROM ${sql.table(spec.table)} WHERE (${sql.join(columns)}) IN (SELECT * FROM unnest(${sql.join(arrays)}))`.execute(this.trx);
    }
  }

  /**
   * Inserts or updates rows as one JSON document per few thousand rows:
   * json_populate_recordset turns it into rows of the table's own type, so
   * there is one parameter whatever the number of rows and columns.
   */
  private async upsertRows(spec: TableSpec, rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    const list = sql.join(columns.map((c) => sql.ref(c)));
    const updates = columns.filter((c) => !spec.key.includes(c));
    const keys = sql.join(spec.key.map((c) => sql.ref(c)));
    const onConflict = spec.appendOnly ? sql``
      : updates.length === 0 ? sql`ON CONFLICT (${keys}) DO NOTHING`
      : sql`ON CONFLICT (${keys}) DO UPDATE SET ${sql.join(updates.map((c) => sql`${sql.ref(c)} = EXCLUDED.${sql.ref(c)}`))}`;
    for (let i = 0; i < rows.length; i += 10_000) {
      const document = JSON.stringify(rows.slice(i, i + 10_000));
      await sql`
        INSERT INTO ${sql.table(spec.table)} (${list})
        SELECT ${list} FROM json_populate_recordset(NULL::${sql.table(spec.table)}, ${document}::json)
        ${onConflict}`.execute(this.trx);
    }
  }

  private tableEntries(table: string): Map<string, Entry> {
    let rows = this.entries.get(table);
    if (!rows) this.entries.set(table, (rows = new Map()));
    return rows;
  }

  private spec(table: string): TableSpec {
    const spec = this.specs.get(table);
    if (!spec) throw new Error(`no table spec for ${table}`);
    return spec;
  }
}

const keyOf = (values: readonly unknown[]) => values.map(String).join('\u0000');
