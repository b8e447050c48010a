/**
 * The one ordered list of migrations, shared by SQLite and PostgreSQL. Append only: a released
 * migration is never edited, a change is a new file.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-core.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-core': m0001,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
