import { Logger } from '@nestjs/common';

// Suites that build services by hand (no Nest app) log through Nest's default console logger;
// `npm test` sets LOG_LEVEL=silent unless TEST_LOGS=1 (see test-logs.ts), so that output stays out of the run.
// A suite that captures logs on purpose calls Logger.overrideLogger() itself.
if (process.env.LOG_LEVEL === 'silent') Logger.overrideLogger(false);
