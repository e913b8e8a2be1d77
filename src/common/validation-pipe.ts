import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';

/** Every constraint message of a validation failure, nested properties included. */
export function validationMessages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [
    ...Object.values(e.constraints ?? {}),
    ...validationMessages(e.children ?? []),
  ]);
}

/**
 * The global pipe for DTO-typed params, queries and bodies: instances built with
 * class-transformer, unknown properties stripped, and one 400 whose message is the failed
 * constraints' own sentences joined (each says what was expected and what came).
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    exceptionFactory: (errors) => new BadRequestException(validationMessages(errors).join('; ')),
  });
}
