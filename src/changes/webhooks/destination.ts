import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';

/** Addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE_URLS=true (SSRF). */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv6');
}

/** True for loopback, private, link-local, shared, reserved and multicast addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family !== 6) return true;
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) reaches the IPv4 address it embeds.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(address, 'ipv6');
}

/** The problem with a subscription URL's form (null: none). The address is checked apart. */
export function webhookUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `url must be an absolute http(s) URL, got ${JSON.stringify(raw.slice(0, 100))}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `url must use http or https, got ${url.protocol.replace(':', '')}`;
  }
  if (url.username || url.password) return 'url must not carry credentials';
  if (url.hash) return 'url must not have a fragment';
  return null;
}

export class PrivateDestinationError extends Error {
  constructor(host: string, address: string) {
    super(
      `${host} resolves to ${address}, a private, loopback or reserved address (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow)`,
    );
    this.name = 'PrivateDestinationError';
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that resolves the host and refuses it if any address is private:
 * the socket then connects to an address this function checked, so a DNS answer that changes
 * between the check and the connect (rebinding) cannot reach an internal address.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses;
      const bad = allowPrivate ? undefined : list.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(new PrivateDestinationError(hostname, bad.address), []);
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

/** Resolves a URL's host and returns the problem when it may not be reached (null: fine). */
export async function destinationProblem(
  raw: string,
  allowPrivate: boolean,
): Promise<string | null> {
  const form = webhookUrlProblem(raw);
  if (form) return form;
  if (allowPrivate) return null;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    guardedLookup(false)(host, { all: true }, (err) => {
      if (!err) return resolve(null);
      resolve(
        err instanceof PrivateDestinationError
          ? err.message
          : `url host ${host} does not resolve (${err.code ?? err.message})`,
      );
    });
  });
}
