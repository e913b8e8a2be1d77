import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { PartnerSlot } from '../../src/partner/partner.types';

/** A partner answer for one product-date: one slot (`providerSlotId`) with `remaining` seats. */
export function answer(
  date: string,
  remaining: number,
  providerSlotId = `S_${date}`,
): PartnerSlot[] {
  return [
    {
      startDate: date,
      startTime: '09:00',
      endTime: '10:00',
      providerSlotId,
      remaining,
      currencyCode: 'EUR',
      variantId: 1,
      paxAvailability: [
        {
          type: 'ADULT',
          name: 'Adult',
          description: 'Adults',
          min: 1,
          max: 10,
          remaining,
          isPrimary: true,
          finalPrice: '20',
          originalPrice: '25',
          discount: '0',
          currencyCode: 'EUR',
        },
      ],
    },
  ];
}

/** The specification's signature, computed apart from the library. */
export function specSignature(secret: string, id: string, ts: string, body: string): string {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`;
}

export interface Received {
  id: string;
  type: string;
  data: { productId?: number; date?: string; version?: string };
}

/**
 * A consumer: verifies every message with the library and with the spec's formula, answers 401
 * to a bad or replayed one, dedups by webhook-id, and can be taken down (503, Retry-After: 0).
 */
export class Receiver {
  secret = '';
  down = false;
  readonly accepted: Received[] = [];
  readonly seen = new Set<string>();
  rejected = 0;
  deliveriesWhileDown = 0;
  /** Messages accepted again after their first time (at least once: the sender retried). */
  duplicates = 0;
  /**
   * While true, messages wait for release() before they are verified and answered; one whose
   * sender went away meanwhile is counted in `aborted` and not accepted (its work was lost with
   * the connection), so only a later attempt can deliver it.
   */
  hold = false;
  readonly held: Array<{ closed: () => boolean; resume: () => void }> = [];
  aborted = 0;
  /** Answer 503 (Retry-After: 1) to the first attempt of the first message of this date. */
  failFirstOfDate: string | null = null;
  private server!: http.Server;
  url = '';

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url ?? '/';
        if (path === '/r301') return res.writeHead(301, { Location: 'http://example.com/' }).end();
        if (path === '/r400') return res.writeHead(400).end('no');
        if (path === '/r500') return res.writeHead(500).end('oops');
        if (path === '/slow') return void setTimeout(() => res.writeHead(200).end(), 3000);
        if (path === '/never') return; // no answer at all
        if (path === '/sink') return res.writeHead(204).end();
        if (this.down) {
          this.deliveriesWhileDown++;
          return res.writeHead(503, { 'Retry-After': '0' }).end();
        }
        if (this.hold) {
          let gone = false;
          res.on('close', () => (gone = !res.writableFinished));
          const closed = () => gone || req.socket.destroyed;
          this.held.push({
            closed,
            resume: () => (closed() ? this.aborted++ : this.accept(req, res, body)),
          });
          return;
        }
        this.accept(req, res, body);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers every held message (or counts it aborted) and stops holding. */
  release(): void {
    this.hold = false;
    for (const { resume } of this.held.splice(0)) resume();
  }

  private accept(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const h = req.headers as Record<string, string>;
    if (this.failFirstOfDate && body.includes(`"date":"${this.failFirstOfDate}"`)) {
      this.failFirstOfDate = null;
      res.writeHead(503, { 'Retry-After': '1' }).end();
      return;
    }
    try {
      const payload = new Webhook(this.secret).verify(body, h) as Received;
      const ours = specSignature(this.secret, h['webhook-id'], h['webhook-timestamp'], body);
      if (!h['webhook-signature'].split(' ').includes(ours)) throw new Error('spec check');
      if (!this.seen.has(h['webhook-id'])) {
        this.seen.add(h['webhook-id']);
        this.accepted.push({ ...payload, id: h['webhook-id'] });
      } else this.duplicates++;
      res.writeHead(204).end();
    } catch {
      this.rejected++;
      res.writeHead(401).end();
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}
