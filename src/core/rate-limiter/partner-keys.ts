import { createHash } from 'node:crypto';
import type { PartnerKey } from './rate-limiter.types';

/** First 8 hex digits of the key's sha256: tells keys apart in status and logs, reveals nothing. */
export function keyFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 8);
}

/** The configured keys as the limiter names them: "key #1", "key #2"… in configured order. */
export function partnerKeys(secrets: readonly string[]): PartnerKey[] {
  return secrets.map((secret, i) => {
    const key = { label: `key #${i + 1}`, fingerprint: keyFingerprint(secret) };
    Object.defineProperty(key, 'secret', { value: secret, enumerable: false });
    return key as PartnerKey;
  });
}
