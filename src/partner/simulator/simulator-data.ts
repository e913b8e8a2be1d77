/**
 * Deterministic inventory for the partner simulator, built from the real values captured from the
 * partner (see partner-api.md). Pure: the same (productId, date, seed, time bucket) always gives
 * the same slots. The wire shape is the partner's, with prices as JSON numbers.
 */

export interface WirePrice {
  finalPrice: number;
  originalPrice: number;
  discount: number;
  currencyCode: string;
}
export interface WirePax {
  type: string;
  name: string;
  description: string;
  min: number;
  max: number;
  remaining: number;
  isPrimary?: boolean;
  price: WirePrice;
}
export interface WireSlot {
  startDate: string;
  startTime: string;
  endTime: string;
  providerSlotId: string;
  remaining: number;
  currencyCode: string;
  variantId: number;
  paxAvailability: WirePax[];
}

/** Product ids at or above this are unknown to the simulated partner (404). */
export const SIM_UNKNOWN_PRODUCT_FROM = 900_000;

/** 32-bit FNV-1a: a cheap, stable hash for generated data. */
export function hash(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Seats drift down by a few over time and come back, so repeated syncs see small changes. */
function drift(base: number, key: number, bucket: number, span: number): number {
  return Math.max(0, base - ((bucket + key) % span));
}

function pax(
  type: string,
  name: string,
  description: string,
  min: number,
  max: number,
  remaining: number,
  final: number,
  original: number,
  currencyCode: string,
  isPrimary?: boolean,
): WirePax {
  const p: WirePax = {
    type,
    name,
    description,
    min,
    max,
    remaining,
    price: {
      finalPrice: final,
      originalPrice: original,
      discount: Math.round((original - final) * 100) / 100,
      currencyCode,
    },
  };
  if (isPrimary !== undefined) p.isPrimary = isPrimary;
  return p;
}

/** Product 14 (real data): Thu, Sun and Tue; nine slots 04:00–08:00 every 30 minutes, SGD. */
function product14(date: string, bucket: number): WireSlot[] {
  if (![0, 2, 4].includes(weekday(date))) return [];
  return Array.from({ length: 9 }, (_, i) => {
    const time = hhmm(4 * 60 + i * 30);
    const k = hash(14, date, time);
    return {
      startDate: date,
      startTime: time,
      endTime: time,
      providerSlotId: `225532707686_${date}T${time}`,
      remaining: drift(2000, k, bucket, 5),
      currencyCode: 'SGD',
      variantId: 32,
      paxAvailability: [
        pax(
          'ADULT_12~99',
          'Adult',
          '12-99 years',
          1,
          20,
          drift(1000, k, bucket, 4),
          212.14,
          312.14,
          'SGD',
          true,
        ),
        pax(
          'CHILD_3~11',
          'Child',
          '3-11 years',
          0,
          20,
          drift(1000, k + 1, bucket, 4),
          43,
          143,
          'SGD',
          false,
        ),
      ],
    };
  });
}

/** Product 15 (real data): Sundays only; one slot at 00:00 with adult, child and infant. */
function product15(date: string, bucket: number): WireSlot[] {
  if (weekday(date) !== 0) return [];
  const k = hash(15, date);
  return [
    {
      startDate: date,
      startTime: '00:00',
      endTime: '00:00',
      providerSlotId: `225532707711_${date}T00:00`,
      remaining: drift(170, k, bucket, 3),
      currencyCode: 'SGD',
      variantId: 122,
      paxAvailability: [
        pax(
          'ADULT_12~99',
          'Adult',
          '12-99 years',
          1,
          15,
          drift(150, k, bucket, 3),
          341,
          441,
          'SGD',
          true,
        ),
        pax('CHILD_5~15', 'Child', '5-15 years', 0, 10, 10, 137, 237, 'SGD'),
        pax('INFANT_0~4', 'Infant', '0-4 years', 0, 10, 10, 0, 0, 'SGD'),
      ],
    },
  ];
}

const CURRENCIES = ['SGD', 'EUR', 'USD', 'INR', 'AED'];

/** Any other product: some dates empty, 1–6 slots otherwise, prices with cents. */
function generated(productId: number, date: string, seed: number, bucket: number): WireSlot[] {
  const h = hash(seed, productId, date);
  if (h % 5 === 0) return [];
  const count = 1 + (h % 6);
  const currency = CURRENCIES[hash(seed, productId) % CURRENCIES.length];
  const variantId = 100 + (hash(seed, productId, 'variant') % 900);
  const adultCents = 1500 + (hash(seed, productId, 'price') % 40000);
  return Array.from({ length: count }, (_, i) => {
    const time = hhmm(8 * 60 + i * 90);
    const k = hash(seed, productId, date, time);
    const adult = adultCents / 100;
    const child = Math.round(adultCents * 0.6) / 100;
    return {
      startDate: date,
      startTime: time,
      endTime: hhmm(8 * 60 + i * 90 + 60),
      providerSlotId: `${productId}-${variantId}_${date}T${time}`,
      remaining: drift(40 + (k % 200), k, bucket, 6),
      currencyCode: currency,
      variantId,
      paxAvailability: [
        pax(
          'ADULT_18~99',
          'Adult',
          '18-99 years',
          1,
          10,
          drift(30 + (k % 100), k, bucket, 5),
          adult,
          Math.round(adultCents * 1.2) / 100,
          currency,
          true,
        ),
        pax(
          'CHILD_4~17',
          'Child',
          '4-17 years',
          0,
          10,
          drift(10 + (k % 30), k + 1, bucket, 3),
          child,
          Math.round(adultCents * 0.8) / 100,
          currency,
        ),
      ],
    };
  });
}

/** The simulated partner's inventory for one product on one date at time bucket `bucket`. */
export function simulatedInventory(
  productId: number,
  date: string,
  seed: number,
  bucket: number,
): WireSlot[] {
  if (productId === 14) return product14(date, bucket);
  if (productId === 15) return product15(date, bucket);
  return generated(productId, date, seed, bucket);
}

/** YYYY-MM-DD plus `days` (UTC calendar arithmetic). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** `count` slots of one product-date (every minute from 00:00, wrapping), 3 pax each. */
export function bigInventory(productId: number, date: string, count: number): WireSlot[] {
  return Array.from({ length: count }, (_, i) => {
    const time = hhmm(i % 1440);
    return {
      startDate: date,
      startTime: time,
      endTime: time,
      providerSlotId: `${productId}-big_${date}#${i}`,
      remaining: 100 + (i % 50),
      currencyCode: 'SGD',
      variantId: 7,
      paxAvailability: [
        pax('ADULT_12~99', 'Adult', '12-99 years', 1, 20, 40, 212.14, 312.14, 'SGD', true),
        pax('CHILD_3~11', 'Child', '3-11 years', 0, 20, 30, 43.5, 143, 'SGD', false),
        pax('INFANT_0~2', 'Infant', '0-2 years', 0, 5, 10, 0, 0, 'SGD', false),
      ],
    };
  });
}
