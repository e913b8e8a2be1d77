/**
 * The SQL of learned-rates.ts, for the statements that rank and report by learned rates: per
 * product-date `s` (product_date_syncs) in horizon `h` (a CTE with h.name), its learned change
 * rate and its read rate, both per second. Held to the TypeScript by learned-rates-sql.spec.ts
 * (random rows, real PostgreSQL and PGlite). `now` is passed in, as the urgency score takes it.
 *
 * Use: put `learnedRatesJoinSql(...)` after the FROM/JOIN that binds `s` and `h`; then
 * `lr.change_rate` and `lr.read_rate` are columns of the row. The joins add at most one row each
 * (primary keys; the horizon pools are grouped by horizon), so they never multiply the rows.
 */
import { Prisma } from '../../generated/prisma/client';
import type { SyncPolicy } from './sync-policy';
import { DEFAULT_CHANGE_RATE, PRIOR_OBSERVATIONS, priorStatsOf } from './learned-rates';

/**
 * The smallest exponent of 2 (or e) the SQL takes: PostgreSQL raises an error on underflow (a
 * result that rounds to 0), of the power and of a product with it. 2^−700 is about 1e−211.
 */
export const MIN_EXPONENT = -700;

/** 2^(−elapsed ÷ half-life) in SQL, elapsed clamped at 0 (decayFactor); half-life in seconds. */
export const decayFactorSql = (elapsedSeconds: Prisma.Sql, halfLifeSeconds: number): Prisma.Sql =>
  halfLifeSeconds > 0
    ? Prisma.sql`power(2::float8, GREATEST(${MIN_EXPONENT}::float8,
        -GREATEST(0::float8, ${elapsedSeconds}) / ${halfLifeSeconds}::float8))`
    : Prisma.sql`1::float8`;

/** Four SQL expressions of ChangeStats' fields. */
interface StatsSql {
  c: Prisma.Sql;
  cs: Prisma.Sql;
  u: Prisma.Sql;
  us: Prisma.Sql;
}

const columnsOf = (alias: string): StatsSql => ({
  c: Prisma.raw(`${alias}.c`),
  cs: Prisma.raw(`${alias}.cs`),
  u: Prisma.raw(`${alias}.u`),
  us: Prisma.raw(`${alias}.us`),
});

/** A pool's sums (0 where the pool has no row: LEFT JOIN). */
const poolOf = (alias: string): StatsSql => ({
  c: Prisma.raw(`COALESCE(${alias}.changed, 0)`),
  cs: Prisma.raw(`COALESCE(${alias}.changed_seconds, 0)`),
  u: Prisma.raw(`COALESCE(${alias}.unchanged, 0)`),
  us: Prisma.raw(`COALESCE(${alias}.unchanged_seconds, 0)`),
});

/**
 * Math.log1p in SQL (PostgreSQL has none): ln(1 + x) loses x's digits when x is small; scaled by
 * x ÷ ((1 + x) − 1) it keeps them (Goldberg, "What every computer scientist should know about
 * floating-point arithmetic", 1991).
 */
export const log1pSql = (x: Prisma.Sql): Prisma.Sql => Prisma.sql`
  (CASE WHEN 1 + ${x} = 1 THEN ${x} ELSE ln(1 + ${x}) * ${x} / ((1 + ${x}) - 1) END)`;

/** `rateOf` of the sums named c, cs, u, us of `alias`. */
const rateOfSql = (alias: string): Prisma.Sql => {
  const s = columnsOf(alias);
  return Prisma.sql`CASE WHEN NOT (${s.c} > 0) OR NOT (${s.cs} > 0) THEN 0::float8
                         WHEN NOT (${s.us} > 0) THEN 'Infinity'::float8
                         ELSE ${log1pSql(Prisma.sql`${s.cs} / ${s.us}`)} / (${s.cs} / ${s.c}) END`;
};

/**
 * `readRate(addReads(reads, now − updated_at, 0, halfLife), halfLife)` of read_demand row `rd`
 * (0 without a row).
 */
export const readRateSql = (input: {
  now: Prisma.Sql;
  readHalfLifeSeconds: number;
  alias?: string;
}): Prisma.Sql => {
  const rd = input.alias ?? 'lr_rd';
  if (!(input.readHalfLifeSeconds > 0)) return Prisma.sql`0::float8`;
  const elapsed = Prisma.sql`extract(epoch FROM ${input.now} - ${Prisma.raw(rd)}.updated_at)::float8`;
  return Prisma.sql`COALESCE(${Prisma.raw(rd)}.reads * ${decayFactorSql(elapsed, input.readHalfLifeSeconds)}
                    * ${Math.LN2 / input.readHalfLifeSeconds}::float8, 0::float8)`;
};

/** Every product's pools of one horizon summed: the horizon's pool (`horizonPool`). */
export const HORIZON_POOLS_SQL = Prisma.sql`
  SELECT horizon, sum(changed) AS changed, sum(changed_seconds) AS changed_seconds,
         sum(unchanged) AS unchanged, sum(unchanged_seconds) AS unchanged_seconds
    FROM change_rate_pools GROUP BY horizon`;

/**
 * Joins that give product-date `s` in horizon `h` the columns `lr.change_rate` (learnedChangeRate
 * with own = s.obs_*, productPool = change_rate_pools of (s.product_id, h.name), horizonPool =
 * their sum over h.name) and `lr.read_rate` (read_demand of (s.product_id, s.date) at `now`).
 * Aliases lr, lr_pp, lr_hp, lr_rd, lr_o are taken.
 *
 * The three priors are folded into one expression per sum. A prior's weight is
 * PRIOR_OBSERVATIONS ÷ its observations, and each level above adds exactly PRIOR_OBSERVATIONS
 * weighted observations: the default's weight is PRIOR_OBSERVATIONS ÷ 2 (priorStatsOf weighs 2),
 * the horizon's PRIOR_OBSERVATIONS ÷ (its own + PRIOR_OBSERVATIONS), the product's likewise. So
 * no level is written twice into the next (PostgreSQL would evaluate each copy), and the sums
 * are computed once per row (OFFSET 0 keeps the planner from copying them into every use).
 */
export const learnedRatesJoinSql = (input: {
  now: Prisma.Sql;
  readHalfLifeSeconds: number;
}): Prisma.Sql => {
  const n = Prisma.sql`${PRIOR_OBSERVATIONS}::float8`;
  const base = priorStatsOf(DEFAULT_CHANGE_RATE);
  const w0 = PRIOR_OBSERVATIONS / (base.changed + base.unchanged);
  const hp = poolOf('lr_hp');
  const pp = poolOf('lr_pp');
  const wH = Prisma.sql`(${n} / (${hp.c} + ${hp.u} + ${n}))`;
  const wP = Prisma.sql`(${n} / (${pp.c} + ${pp.u} + ${n}))`;
  const sum = (own: string, pool: keyof StatsSql, prior: number): Prisma.Sql =>
    Prisma.sql`${Prisma.raw(own)} + ${wP} * (${pp[pool]} + ${wH} * (${hp[pool]} + ${prior}::float8))`;
  return Prisma.sql`
    LEFT JOIN change_rate_pools lr_pp ON lr_pp.product_id = s.product_id AND lr_pp.horizon = h.name
    LEFT JOIN (${HORIZON_POOLS_SQL}) lr_hp ON lr_hp.horizon = h.name
    LEFT JOIN read_demand lr_rd ON lr_rd.product_id = s.product_id AND lr_rd.date = s.date
    CROSS JOIN LATERAL (
      SELECT ${sum('s.obs_changed', 'c', w0 * base.changed)} AS c,
             ${sum('s.obs_changed_seconds', 'cs', w0 * base.changedSeconds)} AS cs,
             ${sum('s.obs_unchanged_seconds', 'us', w0 * base.unchangedSeconds)} AS us,
             ${readRateSql({ now: input.now, readHalfLifeSeconds: input.readHalfLifeSeconds })} AS read_rate
      OFFSET 0) lr_o
    CROSS JOIN LATERAL (SELECT ${rateOfSql('lr_o')} AS change_rate, lr_o.read_rate) lr`;
};

/**
 * Each horizon's name and days, as a CTE's body `h(name, from_day, to_day)`, for statements that
 * have no horizon CTE of their own (the pools' refresh, the status).
 */
export const horizonNamesSql = (policy: Pick<SyncPolicy, 'horizons'>): Prisma.Sql => Prisma.sql`
  SELECT * FROM unnest(${policy.horizons.map((h) => h.name)}::text[],
                       ${policy.horizons.map((h) => h.fromDay)}::int[],
                       ${policy.horizons.map((h) => h.toDay)}::int[])
           AS h(name, from_day, to_day)`;
