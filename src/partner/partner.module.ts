import { Module } from '@nestjs/common';

/** The partner client (and, in the demo, the built-in simulator). */
@Module({})
export class PartnerModule {}
