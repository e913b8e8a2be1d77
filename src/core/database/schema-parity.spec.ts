import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';

/** What schema.prisma says a column must be. */
interface ExpectedColumn {
  table: string;
  column: string;
  type: string;
  nullable: boolean;
}
interface ExpectedIndex {
  table: string;
  columns: string[];
  unique: boolean;
}

const SCALARS: Record<string, string> = {
  Int: 'integer',
  BigInt: 'bigint',
  String: 'text',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Decimal: 'numeric(65,30)',
  Float: 'double precision',
  Json: 'jsonb',
};

function nativeType(attr: string): string | undefined {
  const m = /@db\.(\w+)(?:\(([^)]*)\))?/.exec(attr);
  if (!m) return undefined;
  const [, name, args] = m;
  switch (name) {
    case 'VarChar':
      return `character varying(${args})`;
    case 'Date':
      return 'date';
    case 'Timestamptz':
      return `timestamp(${args ?? 6}) with time zone`;
    case 'Decimal':
      return `numeric(${args.replace(/\s/g, '')})`;
    default:
      throw new Error(`schema-parity test does not know @db.${name} yet`);
  }
}

/** A small reader of schema.prisma: enough to check every model, column, type and index. */
function parseSchema(source: string): { columns: ExpectedColumn[]; indexes: ExpectedIndex[] } {
  const models = [...source.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)];
  const modelNames = new Set(models.map((m) => m[1]));
  const columns: ExpectedColumn[] = [];
  const indexes: ExpectedIndex[] = [];
  for (const [, , body] of models) {
    const lines = body
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('//'));
    const table = /@@map\("([^"]+)"\)/.exec(body)?.[1];
    if (!table) throw new Error('every model must be @@map-ped to a snake_case table');
    const fieldToColumn = new Map<string, string>();
    for (const line of lines.filter((l) => !l.startsWith('@@'))) {
      const [name, rawType, ...rest] = line.split(/\s+/);
      const attrs = rest.join(' ');
      const baseType = rawType.replace(/[?[\]]/g, '');
      if (modelNames.has(baseType) || rawType.endsWith('[]')) continue;
      const column = /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? name;
      fieldToColumn.set(name, column);
      columns.push({
        table,
        column,
        type: nativeType(attrs) ?? SCALARS[baseType],
        nullable: rawType.endsWith('?'),
      });
      if (/@unique\b/.test(attrs)) indexes.push({ table, columns: [column], unique: true });
      if (/@id\b/.test(attrs)) indexes.push({ table, columns: [column], unique: true });
    }
    for (const line of lines.filter((l) => l.startsWith('@@'))) {
      const m = /^@@(unique|index|id)\(\[([^\]]+)\]/.exec(line);
      if (!m) continue;
      const cols = m[2].split(',').map((f) => fieldToColumn.get(f.trim()) ?? f.trim());
      indexes.push({ table, columns: cols, unique: m[1] !== 'index' });
    }
  }
  return { columns, indexes };
}

describe('schema parity: the migrated database matches prisma/schema.prisma', () => {
  let db: TestDatabase;
  let client: Client;
  const expected = parseSchema(
    readFileSync(path.join(__dirname, '..', '..', '..', 'prisma', 'schema.prisma'), 'utf8'),
  );

  beforeAll(async () => {
    db = await createTestDatabase('inv_parity');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  it('has exactly the tables and columns of the schema, with the same types and nullability', async () => {
    const { rows } = await client.query<ExpectedColumn>(`
      SELECT c.relname AS table, a.attname AS column,
             format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
        AND c.relname <> '_prisma_migrations'`);
    const key = (c: ExpectedColumn): string => `${c.table}.${c.column}`;
    const sort = (xs: ExpectedColumn[]): ExpectedColumn[] =>
      [...xs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sort(rows)).toEqual(sort(expected.columns));
  });

  it('has every index and unique constraint the schema declares', async () => {
    const { rows } = await client.query<{ table: string; columns: string[]; unique: boolean }>(`
      SELECT t.relname AS table, ix.indisunique AS unique,
             array_agg(a.attname::text ORDER BY k.ord) AS columns
      FROM pg_index ix
      JOIN pg_class t ON t.oid = ix.indrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
      WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations'
      GROUP BY t.relname, ix.indexrelid, ix.indisunique`);
    const actual = rows.map(
      (r) => `${r.table}(${r.columns.join(',')})${r.unique ? ' unique' : ''}`,
    );
    for (const i of expected.indexes) {
      expect(actual).toContain(`${i.table}(${i.columns.join(',')})${i.unique ? ' unique' : ''}`);
    }
    expect(actual).toHaveLength(expected.indexes.length);
  });
});
