import type { Config } from '../config/config.ts';
import { openDatabase } from '../infra/db/database.ts';
import { migrate } from '../infra/db/migrator.ts';

export async function runMigrate(config: Config): Promise<number> {
  const database = await openDatabase(config.database);
  try {
    const applied = await migrate(database);
    process.stdout.write(applied.length
      ? `Applied ${applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`).join(', ')}\n`
      : 'Database is up to date\n');
    return 0;
  } finally {
    await database.close();
  }
}
