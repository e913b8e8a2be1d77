import { performance } from 'node:perf_hooks';
import { LeaderTerm, type LeadershipChange } from './leader-term';
import { NotLeaderError } from './not-leader.error';

const since = new Date('2026-12-01T12:00:00Z');
const later = (ms: number) => performance.now() + ms;

describe('LeaderTerm', () => {
  let term: LeaderTerm;
  let events: LeadershipChange[];

  beforeEach(() => {
    term = new LeaderTerm('a');
    events = [];
    term.leadership$.subscribe((e) => events.push(e));
  });

  afterEach(() => term.stepDown('test over'));

  it('announces a new term and a step-down as events, and forgets the fence after it', () => {
    term.begin(7n, since, later(60_000));
    expect(term.isLeader()).toBe(true);
    expect(term.leading()).toMatchObject({ fence: 7n, since });
    term.stepDown('shutting down');
    expect(term.currentFence()).toBeNull();
    expect(events).toEqual([
      { leader: false, instanceId: 'a', reason: 'starting' },
      { leader: true, instanceId: 'a', fence: '7', since },
      { leader: false, instanceId: 'a', reason: 'shutting down' },
    ]);
  });

  it('stops leading past its local deadline but keeps the fence, and a renewal resumes it silently', () => {
    term.begin(3n, since, later(-1));
    expect(term.isLeader()).toBe(false);
    expect(term.leading()).toBeNull();
    expect(term.currentFence()).toBe(3n);
    expect(term.extend(3n, later(60_000))).toBe(true);
    expect(term.isLeader()).toBe(true);
    expect(events.map((e) => e.leader)).toEqual([false, true]);
  });

  it('extends only the same term', () => {
    term.begin(3n, since, later(60_000));
    expect(term.extend(4n, later(60_000))).toBe(false);
    expect(term.currentFence()).toBe(3n);
  });

  it('steps down when fenced out of its current term, and names the holder the database showed', () => {
    term.begin(3n, since, later(60_000));
    const error = term.fencedOut(3n, 'b', 'fenced');
    expect(error).toBeInstanceOf(NotLeaderError);
    expect(error.message).toBe('instance a is not the sync leader (the leader is b)');
    expect(term.currentFence()).toBeNull();
    expect(events.at(-1)).toEqual({ leader: false, instanceId: 'a', reason: 'fenced' });
  });

  it('keeps a newer term when an older one is fenced out', () => {
    term.begin(4n, since, later(60_000));
    term.fencedOut(3n, 'b', 'fenced');
    expect(term.isLeader()).toBe(true);
    expect(() => term.requireLeader()).not.toThrow();
  });

  it('refuses to act as leader before any term, naming no holder', () => {
    expect(() => term.requireLeader()).toThrow(
      'instance a is not the sync leader (no instance holds the lease right now)',
    );
  });

  it('reads the database clock through the offset measured at the last statement', () => {
    const sent = Date.now();
    term.measureClock(new Date(sent + 10_000), sent, sent);
    expect(term.dbNow() - Date.now()).toBeGreaterThanOrEqual(9_990);
    expect(term.dbNow() - Date.now()).toBeLessThanOrEqual(10_000);
  });

  it('counts a confirmation as fresh only within the given time', () => {
    expect(term.confirmedWithin(1000)).toBe(false);
    term.confirmed();
    expect(term.confirmedWithin(1000)).toBe(true);
    expect(term.confirmedWithin(0)).toBe(false);
  });
});
