import { choice, constant, integer, shape, shared } from './schema-kit.ts';

export const Health = shared('Health', shape({
  status: constant('ok'),
  database: choice(['postgres', 'pglite']),
  readModelPosition: { ...integer, description: 'the last event position the read models include' },
}));
