import { Observable, Subscriber, type Observer, type OperatorFunction } from 'rxjs';
import type { Batch } from '../batch/Batch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../errors/index.js';
import { wrapError } from '../internal/batchSubscriber.js';
import { statefulOperator, type Step } from '../internal/statefulOperator.js';
import { UNSUPPORTED } from '../query/unsupportedOperations.js';
import { resolveJoinCondition, type ResolvedJoinCondition } from './JoinCondition.js';
import { joinColumnChecks } from './joinColumns.js';
import type { StaticJoinOptions, StaticJoinType } from './joinOptions.js';
import { JOIN_OP as OP, emitterOf, outputMarker } from './joinOutput.js';
import { indexStaticTable, isStaticRows, staticJoinStep, staticRowsOf, type StaticRows, type StaticTableIndex } from './staticJoin.js';
import { isStaticTable, type StaticTable } from './staticTable.js';

/** A stream batch with the static table it joins (the latest one when it is processed). */
interface StaticJoinStep<TLeft, TRight> extends Step {
  readonly batch: Batch<TLeft>;
  readonly table: StaticTableIndex<TRight>;
}

/**
 * The stream's batches paired with the static table: a batch that arrives
 * before the first table waits for it; each later batch joins the latest
 * table. Completes when the stream has completed and every waiting batch is
 * out (and, without any table yet, when `tables$` completed: an empty table).
 */
function withTable<TLeft, TRight>(
  source: Observable<Batch<TLeft>>,
  cond: ResolvedJoinCondition<TLeft, TRight>,
  fixed: readonly TRight[] | undefined,
  tables$: Observable<unknown> | undefined,
): Observable<StaticJoinStep<TLeft, TRight>> {
  return new Observable<StaticJoinStep<TLeft, TRight>>((subscriber) => {
    let table: StaticTableIndex<TRight> | undefined = fixed === undefined ? undefined : indexStaticTable(cond, fixed);
    const pending: Batch<TLeft>[] = [];
    let sourceDone = false;
    let tablesDone = tables$ === undefined;
    const send = (batch: Batch<TLeft>): void => subscriber.next({ batchId: batch.batchId, batches: [batch], batch, table: table! });
    const flush = (): void => {
      while (pending.length > 0 && !subscriber.closed) send(pending.shift()!);
      if (sourceDone && pending.length === 0 && (table !== undefined || tablesDone)) subscriber.complete();
    };
    const linked = <V>(observer: Observer<V>): Subscriber<V> => {
      const inner = new Subscriber<V>(observer);
      subscriber.add(inner);
      return inner;
    };
    if (tables$ !== undefined) {
      tables$.subscribe(
        linked<unknown>({
          next: (t) => {
            if (!isStaticRows(t)) {
              subscriber.error(new InvalidOptionError(`${OP}: a static table must be an array or an Immutable collection; got ${describeValue(t)}.`, 'other', t, 'an array or an Immutable collection'));
              return;
            }
            try {
              table = indexStaticTable(cond, staticRowsOf(t as StaticRows<TRight>));
            } catch (error) {
              // A key function that throws on a table row: named as the join's failure, before any batch.
              subscriber.error(wrapError(OP, -1, error));
              return;
            }
            flush();
          },
          error: (error: unknown) => subscriber.error(error),
          complete: () => {
            tablesDone = true;
            if (table === undefined) table = indexStaticTable(cond, []);
            flush();
          },
        }),
      );
    }
    source.subscribe(
      linked<Batch<TLeft>>({
        next: (batch) => {
          if (table === undefined) pending.push(batch);
          else send(batch);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          flush();
        },
      }),
    );
  });
}

/** A stream-static join (see `streamJoin`): no state; run in the shared stateful-operator shell for its plan check, batch checks and stamping. */
export function streamStaticJoin<TLeft, TRight, O>(other: StaticRows<TRight> | StaticTable<TRight>, options: StaticJoinOptions<TLeft, TRight, StaticJoinType, O>): OperatorFunction<Batch<TLeft>, Batch<O>> {
  const cond = resolveJoinCondition<TLeft, TRight>(OP, options, false);
  if (cond.type === 'fullOuter') throw new UnsupportedOperationError(OP, UNSUPPORTED.fullOuterStreamStatic);
  if (cond.type === 'rightOuter') throw new UnsupportedOperationError(OP, UNSUPPORTED.rightOuterStreamLeftStatic);
  for (const key of ['aligned', 'policy', 'onLateRows'] as const) {
    if ((options as Record<string, unknown>)[key] !== undefined) {
      throw new InvalidOptionError(`${OP}: ${key} applies to stream-stream joins only; got ${describeValue((options as Record<string, unknown>)[key])} for a stream-static join.`, key, (options as Record<string, unknown>)[key], 'undefined');
    }
  }
  const emit = emitterOf<TLeft, TRight, O>(options.select);
  const hasSelect = options.select !== undefined;
  const fixed = isStaticTable(other) ? undefined : staticRowsOf(other);
  const tables$ = isStaticTable(other) ? other.tables$ : undefined;
  const anyCond = cond as ResolvedJoinCondition<unknown, unknown>;
  const semiPassThrough = cond.semi && !hasSelect;

  return (source) => {
    const columns = joinColumnChecks(OP, anyCond, source, undefined);
    return statefulOperator<StaticJoinStep<TLeft, TRight>, Batch<O>, never>({
      op: OP,
      inputs: [source],
      steps: withTable(source, cond, fixed, tables$),
      // A stream-static join keeps the stream's watermarked columns (qualified `left.<c>` on { left, right } rows); it holds no state.
      derive: ([input]) => {
        if (semiPassThrough) return input!;
        const { columns: _columns, ...rest } = input!;
        return { ...rest, watermarks: input!.watermarks.map((w) => ({ ...w, side: 'left' as const })) };
      },
      open: () => ({
        step: ({ batch, table }) => {
          columns.left(batch, batch.batchId);
          const rows = staticJoinStep(cond, emit, table, batch.rows, batch.batchId);
          const marker = outputMarker(anyCond, hasSelect, batch.eventTime, undefined);
          return {
            output: (metrics) => ({ batchId: batch.batchId, rows, watermark: batch.watermark, ...(marker === undefined ? {} : { eventTime: marker }), ...(metrics === undefined ? {} : { metrics }) }),
          };
        },
      }),
    });
  };
}
