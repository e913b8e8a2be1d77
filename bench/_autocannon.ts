/** The part of autocannon's API the benchmarks use (the package ships no type declarations). */
export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

export type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    requests: { setupRequest: (req: Record<string, unknown>) => Record<string, unknown> }[];
  },
  done: (err: Error | null, result: AutocannonResult) => void,
) => unknown;

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const autocannon = require('autocannon') as Autocannon;
