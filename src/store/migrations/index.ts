/**
 * The one ordered list of migrations, shared by SQLite and PostgreSQL. Append only: a released
 * migration is never edited, a change is a new file.
 */
import type { Migration, MigrationProvider } from 'kysely';
import * as m0001 from './0001-core.js';
import * as m0002 from './0002-inbox.js';
import * as m0003 from './0003-outbound.js';
import * as m0010 from './0010-channel-identities.js';
import * as m0050 from './0050-media.js';
import * as m0060 from './0060-agent-config.js';
import * as m0070 from './0070-transcription.js';
import * as m0045 from './0045-answers.js';
import * as m0030 from './0030-pg-event-sequencing.js';
import * as m0040 from './0040-conversations.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-core': m0001,
  '0002-inbox': m0002,
  '0003-outbound': m0003,
  '0010-channel-identities': m0010,
  '0050-media': m0050,
  '0060-agent-config': m0060,
  '0070-transcription': m0070,
  '0045-answers': m0045,
  '0030-pg-event-sequencing': m0030,
  '0040-conversations': m0040,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return MIGRATIONS;
  },
};
