/**
 * Runs one autocannon load in this process and prints its result (`LOAD_RESULT {…}`): the load
 * generator as a process of its own, pinned to its CPUs by the caller (see _http-load.ts).
 *
 *   node _load-process.js '<LoadOptions as JSON>'
 */
import { autocannonLoad, type LoadOptions } from './_http-load';

autocannonLoad(JSON.parse(process.argv[2]) as LoadOptions)
  .then((r) => console.log(`LOAD_RESULT ${JSON.stringify(r)}`))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
