import { limitAfterRateLimit, startsWithin } from './rate-limiter.policy';

/**
 * One key's own count of its calls in the partner's sliding window (+ margin), and the share it
 * allows itself for a window after a 429.
 */
export class CallWindow {
  /** When this key's calls were sent, and when its 429s came back (pruned to two windows). */
  private starts: number[] = [];
  private rejections: number[] = [];
  /** Starts allowed in the key's sliding window: its limit, or for a window after a 429 its share. */
  private allowed: number;
  private readonly lengthMs: number;
  /** How far after its send an answer may move a call's stamp (see `answered`). */
  private readonly answerCapMs: number;
  /** When `room` last gave a place: sends are kept at least `minGapMs` apart. */
  private lastGivenAt = -Infinity;

  /**
   * `minGapMs`: the least time between two sends. Bottleneck spaces its launches, but sends that
   * waited here for a place would otherwise leave together when places free together (seen: two
   * 429s 1–8 ms apart on a shared key); with a gap, the first one's 429 comes back before the
   * second is sent, and the hold stops it. `answerCapMs` (default: the margin): see `answered`.
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    marginMs: number,
    private readonly minGapMs = 0,
    answerCapMs = marginMs,
  ) {
    this.allowed = limit;
    this.answerCapMs = Math.max(marginMs, answerCapMs);
    this.lengthMs = windowMs + marginMs;
  }

  /** Calls sent in the partner's window (without our margin) before `now`. */
  spent(now: number): number {
    return startsWithin(this.starts, now, this.windowMs);
  }

  /** Starts the key allows itself in a window now: its limit, or its share after a 429. */
  allowance(): number {
    return this.allowed;
  }

  /** Whether a share after a 429 is still in force. */
  shared(): boolean {
    return this.rejections.length > 0;
  }

  /**
   * Bottleneck spaces its launches minTime apart, but a timer that fires late (a loaded machine,
   * a slow start guard) brings two sends closer than that. So the send itself also waits until
   * the key's own sliding window (+ margin) has room; it rarely has to. After a 429 the room is
   * the share: the probe waits until enough of our own calls (rejected ones included: the
   * partner counts them) have left the window, which is what frees room on a shared key; the
   * partner's reset only says when room would be free if nobody else were calling.
   * The place is taken with `stamp` when it returns; `unstamp` gives it back if nothing is sent.
   */
  async room(stamp: { at: number }): Promise<void> {
    for (;;) {
      const now = Date.now();
      const inWindow = startsWithin(this.starts, now, this.lengthMs);
      const gapLeft = this.lastGivenAt + this.minGapMs - now;
      if (inWindow < this.allowed && gapLeft <= 0) {
        // Reserved at once: two sends waiting here would otherwise both see the one free place.
        this.lastGivenAt = now;
        this.stamp(stamp);
        return;
      }
      const placeIn =
        inWindow < this.allowed
          ? 0
          : this.starts[this.starts.length - this.allowed] + this.lengthMs - now;
      // In slices: the share may end (or an operator clear it) while this waits.
      const waitMs = Math.min(250, Math.max(1, placeIn, gapLeft));
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /**
   * A call's answer (or its deadline) came: its stamp moves to now, but never more than
   * `answerCapMs` (the key's pace) after it was sent. The partner counted the request somewhere
   * between the send and the answer, so an answer within a pace step keeps our count at least as
   * strict as the partner's whatever the request's delay on the way (a loaded machine can delay it
   * past the margin). A call that hangs spent its unit when it was sent: stamped at its deadline,
   * each one would hold a place a whole deadline longer than the partner does; capped, one pace.
   */
  answered(stamp: { at: number }): void {
    if (stamp.at <= 0) return;
    const at = Math.min(Date.now(), stamp.at + this.answerCapMs);
    const i = this.starts.lastIndexOf(stamp.at);
    if (i >= 0) this.starts.splice(i, 1);
    this.insert(stamp, at);
  }

  /** Moves a call's stamp (the place `room` reserved) to now: when it is sent. */
  stamp(stamp: { at: number }): void {
    if (stamp.at > 0) {
      const i = this.starts.lastIndexOf(stamp.at);
      if (i >= 0) this.starts.splice(i, 1);
    }
    this.insert(stamp, Date.now());
  }

  private insert(stamp: { at: number }, at: number): void {
    stamp.at = at;
    let i = this.starts.length;
    while (i > 0 && this.starts[i - 1] > stamp.at) i--;
    this.starts.splice(i, 0, stamp.at);
    const horizon = stamp.at - 2 * this.lengthMs;
    while (this.starts.length > 0 && this.starts[0] < horizon) this.starts.shift();
  }

  /** Gives back a place `room` reserved for a call that was not sent. */
  unstamp(stamp: { at: number }): void {
    if (stamp.at <= 0) return;
    const i = this.starts.lastIndexOf(stamp.at);
    if (i >= 0) this.starts.splice(i, 1);
    stamp.at = 0;
  }

  /** A 429 came back at `now`: allows only the share the partner accepted from us; returns it. */
  rateLimited(now: number): number {
    this.rejections = this.rejections.filter((t) => t > now - this.lengthMs);
    this.rejections.push(now);
    this.allowed = limitAfterRateLimit(
      startsWithin(this.starts, now, this.lengthMs),
      this.rejections.length,
    );
    return this.allowed;
  }

  /** The whole budget again. */
  restore(): void {
    this.rejections = [];
    this.allowed = this.limit;
  }
}
