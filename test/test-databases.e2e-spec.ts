import { Client } from 'pg';
import globalTeardown from './support/global-teardown';
import { ADMIN_DATABASE_URL, createdAtOf, createTestDatabase } from './support/test-database';

async function exists(name: string): Promise<boolean> {
  const c = new Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return rowCount === 1;
  } finally {
    await c.end();
  }
}

describe('test databases shared by several runs', () => {
  it('reads the creation stamp from the end of the name, whatever the prefix holds', () => {
    const at = Date.parse('2026-12-07T14:00:00Z');
    expect(createdAtOf(`inv_${at.toString(36)}_0a1b2c`)).toBe(at);
    expect(createdAtOf(`inv_partner_keys_${at.toString(36)}_0a1b2c`)).toBe(at);
    expect(createdAtOf('inv_keys')).toBeNull();
    expect(createdAtOf('inv_partner_keys_stamp')).toBeNull();
  });

  it("leaves another run's young database alone when a run ends", async () => {
    // A prefix with underscores: its third part once read as the stamp, a time long past.
    const db = await createTestDatabase('inv_two_parts', { migrate: false });
    try {
      await globalTeardown();
      expect(await exists(db.name)).toBe(true);
    } finally {
      await db.drop();
    }
  });
});
