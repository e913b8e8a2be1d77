import { ClusterLeadership } from './cluster-leadership';
import type { LeaderLeaseService } from './leader-lease.service';

/** A lease whose database clock the test moves (the offset measured at each lease statement). */
function leadershipWithDbClock(): { leadership: ClusterLeadership; setDbNow(ms: number): void } {
  let dbNow = 0;
  const lease = { dbNow: () => dbNow } as unknown as LeaderLeaseService;
  return { leadership: new ClusterLeadership(lease), setDbNow: (ms) => (dbNow = ms) };
}

describe('ClusterLeadership.now (the clock a fetch start is taken on)', () => {
  it('reads the database clock, not this process clock', () => {
    const { leadership, setDbNow } = leadershipWithDbClock();
    const skewed = Date.now() + 3_600_000;
    setDbNow(skewed);
    expect(leadership.now().getTime()).toBe(skewed);
  });

  it('never goes back when a later measurement of the offset comes out lower', () => {
    const { leadership, setDbNow } = leadershipWithDbClock();
    setDbNow(1_000_000);
    expect(leadership.now().getTime()).toBe(1_000_000);
    setDbNow(999_900);
    expect(leadership.now().getTime()).toBe(1_000_000);
    setDbNow(1_000_050);
    expect(leadership.now().getTime()).toBe(1_000_050);
  });
});
