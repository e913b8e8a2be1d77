import { readFileSync } from 'node:fs';
import path from 'node:path';
import { findProjectRoot } from '../../common/project-root';
import { COLUMN_CHARS, columnTextProblem } from './partner-inventory.dto';

/** `@db.VarChar(n)` of one field of one model in prisma/schema.prisma. */
function varcharOf(schema: string, model: string, field: string): number {
  const body = new RegExp(`^model ${model} \\{([\\s\\S]*?)^\\}`, 'm').exec(schema)?.[1];
  const line = body?.split('\n').find((l) => l.trim().split(/\s+/)[0] === field);
  const n = line && /@db\.VarChar\((\d+)\)/.exec(line)?.[1];
  if (!n) throw new Error(`${model}.${field} is not a VarChar column in schema.prisma`);
  return Number(n);
}

describe('partner text limits', () => {
  const schema = readFileSync(path.join(findProjectRoot(), 'prisma', 'schema.prisma'), 'utf8');

  it('are the sizes of the columns the store writes', () => {
    expect({
      providerSlotId: varcharOf(schema, 'Slot', 'providerSlotId'),
      paxType: varcharOf(schema, 'PaxAvailability', 'type'),
      paxName: varcharOf(schema, 'PaxAvailability', 'name'),
      paxDescription: varcharOf(schema, 'PaxAvailability', 'description'),
    }).toEqual(COLUMN_CHARS);
  });

  it('leave room for what the patterns allow (HH:MM, 3-letter currency codes)', () => {
    expect(varcharOf(schema, 'Slot', 'startTime')).toBeGreaterThanOrEqual('HH:MM'.length);
    expect(varcharOf(schema, 'Slot', 'endTime')).toBeGreaterThanOrEqual('HH:MM'.length);
    expect(varcharOf(schema, 'Slot', 'currencyCode')).toBeGreaterThanOrEqual(3);
    expect(varcharOf(schema, 'PaxAvailability', 'currencyCode')).toBeGreaterThanOrEqual(3);
  });
});

describe('columnTextProblem', () => {
  it.each<[string, string, number, RegExp | null]>([
    ['plain text at the limit', 'a'.repeat(64), 64, null],
    ['one past the limit', 'a'.repeat(65), 64, /at most 64 characters/],
    // A code point outside the BMP is one character to PostgreSQL, two UTF-16 units to JS.
    ['64 emoji', '😀'.repeat(64), 64, null],
    ['65 emoji', '😀'.repeat(65), 64, /at most 64/],
    ['a variation selector counted', `${'a'.repeat(63)}☀\uFE0F`, 64, /at most 64/],
    ['a NUL', 'a\u0000b', 64, /U\+0000/],
    ['a lone high surrogate at the end', 'a\uD83D', 64, /lone UTF-16 surrogate/],
    ['a lone low surrogate first', '\uDE00a', 64, /lone UTF-16 surrogate/],
    ['tab, newline, U+0001, DEL and C1 controls', 'a\tb\nc\u0001\u007f\u0085', 64, null],
    ['U+FFFD sent as such', '\uFFFD', 64, null],
    ['the empty string', '', 64, null],
  ])('%s', (_name, value, max, problem) => {
    const found = columnTextProblem(value, max);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});
