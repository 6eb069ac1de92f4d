import { GroupStateImpl, NO_TIMEOUT, NoSuchStateError } from '../../../lib/groupState/GroupState.js';
import { groupStateCodec, GroupStateStore } from '../../../lib/groupState/GroupStateStore.js';
import { Map as ImmutableMap } from 'immutable';
import { InvalidArgumentError, UnsupportedOperationError } from '../../../lib/errors/index.js';

const handle = (timeout: 'none' | 'processingTime' | 'eventTime', entry?: { value: unknown; timeoutAt?: number }, watermarkPresent = true) =>
  new GroupStateImpl<number>('op', 'k', entry === undefined ? undefined : { key: 'k', exists: true, value: entry.value, timeoutAt: entry.timeoutAt ?? NO_TIMEOUT }, 1000, 500, watermarkPresent, timeout, false);

describe('GroupStateImpl', () => {
  it('reads, updates and removes like Spark\'s GroupStateImpl', () => {
    const s = handle('none');
    expect([s.exists, s.getOption()]).toEqual([false, undefined]);
    expect(() => s.get()).toThrow(NoSuchStateError);
    s.update(3);
    expect([s.exists, s.get(), s.updated, s.toEntry()]).toEqual([true, 3, true, { key: 'k', exists: true, value: 3, timeoutAt: NO_TIMEOUT }]);
    s.remove();
    expect([s.exists, s.removed, s.updated, s.toEntry()]).toEqual([false, true, false, undefined]);
    expect(String(s)).toBe('GroupState(<undefined>)');
  });

  it('resets the timeout at every call and computes deadlines from the batch clock and watermark', () => {
    const p = handle('processingTime', { value: 1, timeoutAt: 99 });
    expect(p.timeoutAt).toBe(NO_TIMEOUT);
    p.setTimeoutDuration('2 seconds');
    expect(p.timeoutAt).toBe(3000);
    const e = handle('eventTime');
    e.setTimeoutTimestamp(new Date(600), 100);
    expect(e.timeoutAt).toBe(700);
    e.setTimeoutTimestamp('1970-01-01T00:00:01Z');
    expect(e.timeoutAt).toBe(1000);
    e.remove();
    expect(e.toEntry()).toEqual({ key: 'k', exists: false, value: undefined, timeoutAt: 1000 });
  });

  it('rejects misuse with Spark wording', () => {
    expect(() => handle('none').setTimeoutDuration(5)).toThrow(UnsupportedOperationError);
    expect(() => handle('processingTime').setTimeoutDuration(-5)).toThrow('op: Timeout duration must be positive; got -5.');
    expect(() => handle('eventTime').setTimeoutTimestamp(499)).toThrow('op: Timeout timestamp (499) cannot be earlier than the current watermark (500)');
    expect(() => handle('eventTime').setTimeoutTimestamp(0)).toThrow('op: Timeout timestamp must be positive; got 0.');
    expect(() => handle('eventTime').setTimeoutTimestamp('soon')).toThrow(InvalidArgumentError);
    expect(() => handle('none', undefined, false).getCurrentWatermarkMs()).toThrow('op: Cannot get event time watermark timestamp without setting watermark before [map|flatMap]GroupsWithState');
    expect(handle('none').getCurrentWatermarkMs()).toBe(500);
    expect(handle('none').getCurrentProcessingTimeMs()).toBe(1000);
  });
});

describe('groupStateCodec', () => {
  it('round-trips entries, including a removed value with a pending timeout', () => {
    const state = GroupStateStore({
      watermarkMs: 7,
      groups: ImmutableMap<string | number, never>().set('a', Object.freeze({ key: 'a', exists: true, value: { n: 1 }, timeoutAt: NO_TIMEOUT }) as never).set(2, Object.freeze({ key: { id: 2 }, exists: false, value: undefined, timeoutAt: 50 }) as never),
    });
    const json = JSON.parse(JSON.stringify([...groupStateCodec.entries(state)])) as [string, unknown][];
    expect(json).toEqual([['@watermark', 7], ['sa', { key: 'a', exists: true, value: { n: 1 }, timeoutAt: null }], ['n2', { key: { id: 2 }, exists: false, timeoutAt: 50 }]]);
    const back = groupStateCodec.fromEntries(json);
    expect([...groupStateCodec.entries(back)]).toEqual([...groupStateCodec.entries(state)]);
    expect(groupStateCodec.get(back, 'n2')).toEqual({ key: { id: 2 }, exists: false, timeoutAt: 50 });
    expect(groupStateCodec.get(back, 'sb')).toBeUndefined();
  });

  it('keeps Date keys and Date, NaN and -0 state values through a checkpoint (plain JSON is written as it is)', () => {
    const value = { since: new Date(9), best: Number.NaN, delta: -0, seen: [new Date(1)] };
    const state = GroupStateStore({
      watermarkMs: 0,
      groups: ImmutableMap<string | number, never>().set('\u0000D5', Object.freeze({ key: new Date(5), exists: true, value, timeoutAt: NO_TIMEOUT }) as never),
    });
    const json = JSON.parse(JSON.stringify([...groupStateCodec.entries(state)])) as [string, unknown][];
    const entry = groupStateCodec.fromEntries(json).groups.get('\u0000D5')!;
    expect(entry.key).toEqual(new Date(5));
    expect(entry.key).toBeInstanceOf(Date);
    expect(entry.value).toEqual(value);
    expect(Object.is((entry.value as typeof value).delta, -0)).toBe(true);
    expect((entry.value as typeof value).seen[0]).toBeInstanceOf(Date);
  });
});
