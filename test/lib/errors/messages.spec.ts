import { count, fromBatches, windowTumbling, type ResultBatch } from '../../../lib/index.js';
import { InvariantViolationError, UnsupportedOperationError } from '../../../lib/errors/index.js';

describe('error messages', () => {
  it('a stale ResultBatch read is a misuse (UnsupportedOperationError) with one full stop per sentence', () => {
    const out: ResultBatch<unknown>[] = [];
    fromBatches([[{ ts: 1_000 }], [{ ts: 2_000 }]])
      .pipe(windowTumbling({ eventTime: 'ts', size: '5 seconds', aggregate: { n: count() } }))
      .subscribe((b) => out.push(b));
    let error: unknown;
    try {
      void out[0]!.updated;
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsupportedOperationError);
    expect((error as Error).message).toBe(
      'windowTumbling: ResultBatch.updated was read after a later batch was processed; an aggregation outside a checkpointed query updates its state in place, so a result batch\'s parts can be read only until the next batch arrives. Read updated while the batch is emitted (in a map or tap before the next batch, as outputMode does) and keep the rows, e.g. map((b) => b.updated).',
    );
  });

  it('an invariant violation ends its own sentence once, whether or not the message has a full stop', () => {
    expect(new InvariantViolationError('state lost.').message).toBe('state lost. This is a bug in rxjs-structured-streaming; please report it with the pipeline that triggered it.');
    expect(new InvariantViolationError('state lost').message).toBe('state lost. This is a bug in rxjs-structured-streaming; please report it with the pipeline that triggered it.');
  });
});
