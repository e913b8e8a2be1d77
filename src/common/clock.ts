import { Injectable, Module } from '@nestjs/common';

/**
 * The one source of "now" for code whose answer depends on the current day (today in the sync
 * time zone, freshness). Tests replace `now` on the app's instance (jest.spyOn) to pin the date.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

/** Provides Clock to the modules that import it. */
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
