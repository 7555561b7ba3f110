import type { RecordedEvent } from '../../core/shared/event.ts';
import type { RowCache, TableSpec } from './row-cache.ts';

/** A SQL read model: the tables it owns and how each event changes their rows. */
export interface SqlProjection {
  name: string;
  tables: readonly TableSpec[];
  apply(rows: RowCache, event: RecordedEvent): Promise<void>;
}

/** Reads event data without ceremony; projections trust what the domain recorded. */
export const dataOf = (event: RecordedEvent) => event.data as Record<string, any>;
