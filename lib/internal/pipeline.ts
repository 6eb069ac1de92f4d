import { Observable as ObservableCtor, type Observable } from 'rxjs';
import type { Batch, EventTimeMarker } from '../batch/Batch.js';
import type { AggregationKind } from '../batch/ResultBatch.js';
import { InvalidOptionError, UnsupportedOperationError, describeValue } from '../errors/index.js';
import { registerState, type QueryContext, type StateCodec, type StateHandle } from '../state/StateStore.js';

/*
 * How pipeline information travels between operators (docs/guides/pipeline-model.md).
 *
 * Downstream, at run time, on the data: every batch one of our operators
 * emits carries a frozen PipelineInfo under the PIPELINE symbol, an own
 * enumerable property, so it survives every RxJS operator a user may put in
 * between (`map` that spreads the batch, `filter`, `delay`, `subscribeOn`,
 * `share`, …): the query the batch belongs to, the watermarked columns, the
 * stateful operators upstream and the output mode. A batch without it comes
 * from a source (a fresh stream); a batch's `eventTime` marker, when present,
 * is then taken as its only watermarked column.
 *
 * Upstream, at build time, on the Observables: our operators attach a
 * PipelineNode to the Observable they return, linking the nodes of their
 * inputs. RxJS operators keep a link to their source (`Observable.source`,
 * set by `lift`), so a node is found through them. The graph serves what must
 * travel against the data (the output mode `outputMode` asks of an
 * aggregation; the query a `checkpoint` operator binds its upstream to) and
 * refusals before any batch flows; where a foreign Observable hides it,
 * the same checks run on the first batch's info instead.
 */

/** A column that carries the event-time watermark. */
export interface WatermarkColumn {
  /** The column name (`'<function>'` when the event time is computed by `read`). */
  readonly column: string;
  /** The join side the column came from, so that `left.<column>` / `right.<column>` also name it. */
  readonly side?: 'left' | 'right';
  /** `true` when the column holds window structs `{ start, end }`. */
  readonly isWindow: boolean;
  /** The delay of its `withWatermark`, in milliseconds. */
  readonly delayMs: number;
  /** Reads the column when it is computed by a function of the row. */
  readonly read?: (row: never) => unknown;
}

/** One stateful operator upstream of a stream. */
export interface StatefulInfo {
  readonly kind: string;
  /** Its operator id (within its query, when it registered with one). */
  readonly id: string;
  /** The query it registered its state with, `undefined` outside a query. */
  readonly query: QueryContext | undefined;
  /** The output mode it emits in (aggregations, `(flat)MapGroupsWithState`, joins). */
  readonly outputMode?: OutputModeName;
}

/** Spark's output modes. */
export type OutputModeName = 'append' | 'update' | 'complete';

/** What an operator knows about the stream it receives. Frozen; shared by every batch of a stream. */
export interface PipelineInfo {
  /** The query the stream runs in, when `startQuery` or a `checkpoint` operator runs it. */
  readonly query?: QueryContext;
  /** The query inputs the stream derives from (`startQuery`'s `sources` names), `[]` outside a query. */
  readonly inputs: readonly string[];
  /** `true` when batch N of every input of the query is one micro-batch (the query's trigger plans all of them). */
  readonly aligned: boolean;
  /** The watermarked event-time columns (none without a `withWatermark` upstream; two after a join of watermarked inputs). */
  readonly watermarks: readonly WatermarkColumn[];
  /** A `withWatermark` is upstream (even when its column was projected away). */
  readonly watermarked: boolean;
  /** The stateful operators upstream, in topological order. */
  readonly stateful: readonly StatefulInfo[];
  /** Set on the output of an aggregation: its kind and whether it groups by a watermarked column. */
  readonly aggregation?: { readonly kind: AggregationKind; readonly hasWatermark: boolean };
  /** The output mode the stream's rows are in, once an operator fixed it. */
  readonly outputMode?: OutputModeName;
  /** The columns the rows are known to have (a source's schema), when known. */
  readonly columns?: readonly string[];
}

/** The symbol under which a batch carries its {@link PipelineInfo}. */
export const PIPELINE: unique symbol = Symbol.for('rxjs-structured-streaming.pipeline') as never;

/** The info of a fresh stream: no watermark, nothing stateful upstream. */
export const SOURCE_INFO: PipelineInfo = Object.freeze({ inputs: Object.freeze([]), aligned: false, watermarks: Object.freeze([]), watermarked: false, stateful: Object.freeze([]) });

/** Freezes an info (and its lists), for sharing between batches. */
export function freezeInfo(info: PipelineInfo): PipelineInfo {
  Object.freeze(info.inputs);
  Object.freeze(info.watermarks);
  Object.freeze(info.stateful);
  if (info.columns !== undefined) Object.freeze(info.columns);
  return Object.freeze(info);
}

const markerInfos = new WeakMap<EventTimeMarker, PipelineInfo>();

/**
 * The rows a batch was stamped with, when its info names columns: a foreign
 * operator that spreads the batch copies the info but may replace the rows
 * (`map((b) => ({ ...b, rows: b.rows.map(…) }))`), and then the columns are
 * no longer known (the operators downstream check each batch instead).
 */
const STAMPED_ROWS: unique symbol = Symbol.for('rxjs-structured-streaming.stampedRows') as never;
const withoutColumns = new WeakMap<PipelineInfo, PipelineInfo>();

/** The info a batch carries, or what its `eventTime` marker implies when it carries none (a batch made by hand or by a source). */
export function infoOfBatch(batch: Batch<unknown>): PipelineInfo {
  const info = (batch as { [PIPELINE]?: PipelineInfo })[PIPELINE];
  if (info !== undefined) {
    if (info.columns === undefined || (batch as { [STAMPED_ROWS]?: unknown })[STAMPED_ROWS] === batch.rows) return info;
    let rest = withoutColumns.get(info);
    if (rest === undefined) {
      const { columns: _columns, ...others } = info;
      rest = freezeInfo(others);
      withoutColumns.set(info, rest);
    }
    return rest;
  }
  const marker = batch.eventTime;
  if (marker === undefined) return SOURCE_INFO;
  let derived = markerInfos.get(marker);
  if (derived === undefined) {
    derived = freezeInfo({ ...SOURCE_INFO, watermarked: true, watermarks: [watermarkOfMarker(marker)] });
    markerInfos.set(marker, derived);
  }
  return derived;
}

/** The info a batch carries or its marker implies; `undefined` for a batch made by hand or by a source without a marker. */
export function carriedInfoOf(batch: Batch<unknown>): PipelineInfo | undefined {
  if ((batch as { [PIPELINE]?: PipelineInfo })[PIPELINE] === undefined && batch.eventTime === undefined) return undefined;
  return infoOfBatch(batch);
}

/** Returns `batch` with `info` attached (mutates `batch`, which must be a fresh object the operator built). */
export function stamp<B extends Batch<unknown>>(batch: B, info: PipelineInfo): B {
  (batch as { [PIPELINE]?: PipelineInfo })[PIPELINE] = info;
  // Not enumerable: a spread copy does not carry it, so its columns count as unknown (checked per batch) rather than as stale.
  if (info.columns !== undefined) Object.defineProperty(batch, STAMPED_ROWS, { value: batch.rows, enumerable: false, configurable: true, writable: true });
  return batch;
}

/** The {@link WatermarkColumn} of a batch's marker. */
export function watermarkOfMarker(marker: EventTimeMarker): WatermarkColumn {
  return { column: marker.field, isWindow: marker.isWindow, delayMs: marker.delayMs, ...(marker.read === undefined ? {} : { read: marker.read }) };
}

/** The public `eventTime` marker of a stream with one watermarked column (the first one otherwise). */
export function markerOf(info: PipelineInfo): EventTimeMarker | undefined {
  const w = info.watermarks[0];
  if (w === undefined) return undefined;
  return { field: w.side === undefined ? w.column : `${w.side}.${w.column}`, isWindow: w.isWindow, delayMs: w.delayMs, ...(w.read === undefined ? {} : { read: w.read }) };
}

/**
 * The watermarked column a name refers to, as Spark resolves an attribute
 * carrying watermark metadata: the column itself, or `left.<c>` / `right.<c>`
 * for a column that came from that side of a join. `undefined` when the name
 * is not watermarked (including a renamed column).
 */
export function watermarkNamed(info: PipelineInfo, name: string): WatermarkColumn | undefined {
  for (const w of info.watermarks) {
    if (w.column === name) return w;
    if (w.side !== undefined && name === `${w.side}.${w.column}`) return w;
  }
  return undefined;
}

/**
 * The single event-time column of a stream for an operator that does not
 * name one, with Spark's refusal when a join left several
 * ("More than one event time columns are available…").
 */
export function soleWatermark(op: string, info: PipelineInfo, multipleMessage: string): WatermarkColumn | undefined {
  if (info.watermarks.length > 1) {
    throw new UnsupportedOperationError(op, `${multipleMessage} event time columns: ${info.watermarks.map((w) => (w.side === undefined ? w.column : `${w.side}.${w.column}`)).join(', ')}`);
  }
  return info.watermarks[0];
}

// ------------------------------------------------------------------ build-time graph

/** Where a `checkpoint` operator puts its query context for the operators upstream of it. */
export interface QueryBinding {
  context: QueryContext | undefined;
}

/** What an operator attaches to the Observable it returns. */
export interface PipelineNode {
  readonly op: string;
  /** The nodes of its inputs (`undefined` where a foreign Observable hides it). */
  readonly inputs: readonly (PipelineNode | undefined)[];
  /** The info of its output as far as it can be told before any batch (a best guess where a foreign Observable hides an input); `undefined` when not even that. */
  readonly info: PipelineInfo | undefined;
  /** A refusal found when the pipeline was built, raised when it is subscribed. */
  readonly refusal: Error | undefined;
  /** The info is a best guess (a foreign Observable hides part of the pipeline upstream): refusals wait for the first batch. */
  readonly guessed?: boolean;
  /** `true` for an aggregation, whose output mode is set from downstream. */
  readonly aggregation: boolean;
  /** The output mode asked of an aggregation by `outputMode(…)` or `startQuery({ outputMode })`. */
  requestedMode: OutputModeName | undefined;
  /** Who asked for {@link PipelineNode.requestedMode}, for messages. */
  requestedBy: string | undefined;
  /** Set by a `checkpoint` operator downstream. */
  binding: QueryBinding | undefined;
  /** The kind of a stateful operator. */
  readonly statefulKind?: string;
  /** The `name` option of a stateful operator (its operator id when set). */
  readonly statefulName?: string;
  /** The codec a stateful operator registers its state with, when it is known as the pipeline is built (see {@link prepareRestoredState}). */
  readonly stateCodec?: StateCodec<unknown>;
  /** The id {@link assignOperatorIds} gave it when the query was built (unique within the query). */
  assignedId?: string;
}

const NODE = Symbol.for('rxjs-structured-streaming.node');

interface Found {
  readonly node: PipelineNode;
  /** A foreign operator lies between the Observable and the node (so the rows' columns may differ). */
  readonly foreign: boolean;
}

/** The nearest node upstream of `observable`, through RxJS operators' `source` links. */
export function findNode(observable: Observable<unknown>): Found | undefined {
  let current: unknown = observable;
  let foreign = false;
  for (let depth = 0; depth < 10_000 && typeof current === 'object' && current !== null; depth++) {
    const node = (current as { [NODE]?: PipelineNode })[NODE];
    if (node !== undefined) return { node, foreign };
    current = (current as { source?: unknown }).source;
    foreign = true;
  }
  return undefined;
}

/** The info known before any batch for the stream `observable` emits; columns are dropped through foreign operators. */
export function staticInfoOf(observable: Observable<unknown>): PipelineInfo | undefined {
  const found = findNode(observable);
  if (found === undefined || found.node.info === undefined) return undefined;
  const info = found.node.info;
  if (!found.foreign || info.columns === undefined) return info;
  const { columns: _columns, ...rest } = info;
  return freezeInfo({ ...rest });
}

/** Attaches `node` to `observable`; returns `observable`. */
export function attachNode<O extends Observable<unknown>>(observable: O, node: PipelineNode): O {
  Object.defineProperty(observable, NODE, { value: node, enumerable: false, configurable: true });
  return observable;
}

/** Every node upstream of (and including) `observable`'s, each once. */
export function upstreamNodes(observable: Observable<unknown>): PipelineNode[] {
  const out: PipelineNode[] = [];
  const seen = new Set<PipelineNode>();
  const stack: (PipelineNode | undefined)[] = [findNode(observable)?.node];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === undefined || seen.has(node)) continue;
    seen.add(node);
    out.push(node);
    for (const input of node.inputs) stack.push(input);
  }
  return out;
}

/**
 * The aggregation whose output `observable` emits (directly or through
 * stateless operators), the one an `outputMode` placed here applies to.
 */
export function aggregationFeeding(observable: Observable<unknown>): PipelineNode | undefined {
  let node = findNode(observable)?.node;
  while (node !== undefined) {
    if (node.aggregation) return node;
    if (node.info?.outputMode !== undefined || node.inputs.length !== 1) return undefined;
    node = node.inputs[0];
  }
  return undefined;
}

/** Asks the aggregation `node` for `mode`; a second, different request is refused. */
export function requestMode(node: PipelineNode, mode: OutputModeName, by: string): void {
  if (node.requestedMode !== undefined && node.requestedMode !== mode) {
    throw new InvalidOptionError(
      `${by}: the aggregation feeding it already emits in ${node.requestedMode} mode (set by ${node.requestedBy ?? 'outputMode'}); got ${describeValue(mode)}. Set the output mode once: either outputMode(…) in the pipeline or startQuery({ outputMode }).`,
      'outputMode',
      mode,
      `'${node.requestedMode}'`,
    );
  }
  node.requestedMode = mode;
  node.requestedBy = by;
}

/** What a stateful operator tells its {@link Stage} when the pipeline is built. */
export interface StageStateful {
  readonly kind: string;
  readonly outputMode?: OutputModeName;
  /** Its `name` option. */
  readonly name?: string | undefined;
  /** The codec it will register its state with, when that does not depend on the batches (lets a query decode the restored state before it is ready). */
  readonly codec?: StateCodec<unknown>;
}

/**
 * Builds the node of an operator from its inputs: `derive` computes the
 * output info from the inputs' infos (and throws Spark's refusal for a shape
 * it refuses). It runs now when every input's info is known; otherwise the
 * operator calls {@link Stage.derive} on the first batch's infos.
 */
export class Stage {
  readonly node: PipelineNode;
  private lastInputs: readonly PipelineInfo[] | undefined;
  private lastOutput: PipelineInfo | undefined;

  constructor(
    readonly op: string,
    inputs: readonly Observable<unknown>[],
    private readonly deriveInfo: (inputs: readonly PipelineInfo[]) => PipelineInfo,
    options: { readonly aggregation?: boolean; readonly stateful?: StageStateful } = {},
  ) {
    const found = inputs.map((input) => findNode(input));
    const infos = inputs.map((input) => staticInfoOf(input));
    // An input whose info is hidden (a foreign Observable) is taken as a fresh stream for a best guess of the output's
    // info (what this operator itself decides, e.g. a withWatermark's column); a refusal then waits for the first batch.
    // Through a foreign operator the info is a guess too (it may rebuild the batches), so refusals wait for the first batch there.
    const guessed = infos.some((i) => i === undefined) || found.some((f) => f?.foreign === true || f?.node.guessed === true);
    let info: PipelineInfo | undefined;
    let refusal: Error | undefined;
    try {
      info = freezeInfo(this.deriveInfo(infos.map((i) => i ?? SOURCE_INFO)));
      if (options.stateful !== undefined) info = withStateful(info, pendingSelf(options.stateful.kind, options.stateful.outputMode));
    } catch (error) {
      if (!(error instanceof UnsupportedOperationError)) throw error;
      if (!guessed) refusal = error;
    }
    this.node = {
      op,
      inputs: found.map((f) => f?.node),
      info,
      refusal,
      guessed,
      aggregation: options.aggregation === true,
      requestedMode: undefined,
      requestedBy: undefined,
      binding: undefined,
      ...(options.stateful === undefined ? {} : { statefulKind: options.stateful.kind }),
      ...(options.stateful?.name === undefined ? {} : { statefulName: options.stateful.name }),
      ...(options.stateful?.codec === undefined ? {} : { stateCodec: options.stateful.codec }),
    };
  }

  /** The output info for these input infos (cached while the inputs' infos stay the same objects, as they do batch after batch). */
  derive(inputs: readonly PipelineInfo[]): PipelineInfo {
    const last = this.lastInputs;
    if (last !== undefined && last.length === inputs.length && last.every((info, i) => info === inputs[i])) return this.lastOutput!;
    const output = freezeInfo(this.deriveInfo(inputs));
    this.lastInputs = inputs;
    this.lastOutput = output;
    return output;
  }

  /** The query context of the operator: the batches' one, else the one a `checkpoint` operator downstream bound it to. */
  queryOf(inputs: readonly PipelineInfo[]): QueryContext | undefined {
    for (const info of inputs) if (info.query !== undefined) return info.query;
    return this.node.binding?.context;
  }

  attach<O extends Observable<unknown>>(observable: O): O {
    return attachNode(observable, this.node);
  }

  /** On subscribe: sends the refusal found when the pipeline was built, if any; `true` when it did (the subscribe function then returns). */
  refuse(subscriber: { error(error: unknown): void }): boolean {
    if (this.node.refusal === undefined) return false;
    subscriber.error(this.node.refusal);
    return true;
  }
}

let unnamed = 0;

/**
 * The operator id of a stateful operator: its `name`, else
 * `<kind>#<n>` where n counts the stateful operators upstream of it (so it
 * depends only on the pipeline's shape, not on subscription timing), with
 * the query inputs it reads appended (`@left`) when the query has several and
 * it reads only some. Outside a query every unnamed operator gets an id of
 * its own.
 */
export function operatorIdOf(kind: string, name: string | undefined, inputs: readonly PipelineInfo[], query: QueryContext | undefined): string {
  if (name !== undefined) return name;
  if (query === undefined) return `${kind}#${unnamed++}`;
  const upstream = new Set<string>();
  const names = new Set<string>();
  for (const info of inputs) {
    for (const s of info.stateful) upstream.add(s.id);
    for (const n of info.inputs) names.add(n);
  }
  const all = query.inputs ?? [];
  const suffix = all.length > 1 && names.size < all.length ? `@${[...names].sort().join('+')}` : '';
  return `${kind}#${upstream.size}${suffix}`;
}

/** The stateful operators of several inputs, each once, in input order. */
export function mergeStateful(inputs: readonly PipelineInfo[]): StatefulInfo[] {
  const out: StatefulInfo[] = [];
  const seen = new Set<string>();
  for (const info of inputs) {
    for (const s of info.stateful) {
      if (seen.has(s.id)) continue;
      seen.add(s.id);
      out.push(s);
    }
  }
  return out;
}

/** A stateful operator's registration, made when its first batch arrives. */
export interface Registration<S> {
  readonly handle: StateHandle<S>;
  readonly query: QueryContext | undefined;
  readonly self: StatefulInfo;
}

/**
 * Registers a stateful operator with the query its first batch belongs to
 * (or the one a `checkpoint` operator bound it to): the id comes from the
 * pipeline's shape, the restored state from the checkpoint.
 */
export function registerStage<S>(
  stage: Stage,
  inputs: readonly PipelineInfo[],
  spec: { readonly kind: string; readonly name: string | undefined; readonly descriptor: unknown; readonly codec: StateCodec<S>; readonly outputMode?: OutputModeName },
): Registration<S> {
  const query = stage.queryOf(inputs);
  const id = spec.name ?? (query === undefined ? undefined : stage.node.assignedId) ?? operatorIdOf(spec.kind, spec.name, inputs, query);
  const handle = registerState<S>(query, { kind: spec.kind, id, descriptor: spec.descriptor, codec: spec.codec });
  return { handle, query, self: { kind: spec.kind, id: handle.operatorId, query, ...(spec.outputMode === undefined ? {} : { outputMode: spec.outputMode }) } };
}

/** The info of a stateful operator's output: `derived` with the operator appended to the stateful ones upstream, in its query. */
export function withStateful(derived: PipelineInfo, self: StatefulInfo): PipelineInfo {
  return freezeInfo({ ...derived, ...(self.query === undefined ? {} : { query: self.query }), stateful: [...derived.stateful, self] });
}

/** A placeholder for an operator's own entry in the info derived before it registered (build time). */
export function pendingSelf(kind: string, outputMode?: OutputModeName): StatefulInfo {
  return { kind, id: `${kind}#?`, query: undefined, ...(outputMode === undefined ? {} : { outputMode }) };
}

/** The info of a union of streams: every input's watermarked columns (each name once), stateful operators and query inputs. */
export function unionInfo(inputs: readonly PipelineInfo[]): PipelineInfo {
  const watermarks: WatermarkColumn[] = [];
  for (const info of inputs) for (const w of info.watermarks) if (!watermarks.some((x) => x.column === w.column && x.side === w.side)) watermarks.push(w);
  const names = new Set<string>();
  for (const info of inputs) for (const n of info.inputs) names.add(n);
  const query = inputs.find((i) => i.query !== undefined)?.query;
  return {
    ...(query === undefined ? {} : { query }),
    inputs: [...names],
    aligned: inputs.every((i) => i.aligned),
    watermarks,
    watermarked: inputs.some((i) => i.watermarked),
    stateful: mergeStateful(inputs),
  };
}

/**
 * Runs the operators downstream in `context`: stamps each batch with it, as
 * `startQuery` does with its input (for the `checkpoint` operator's and the
 * tests' own contexts).
 */
export function inQueryContext<T>(context: QueryContext): (source: Observable<Batch<T>>) => Observable<Batch<T>> {
  return (source) => {
    const stage = new Stage('inQueryContext', [source], ([input]) => input!);
    const cache = new WeakMap<PipelineInfo, PipelineInfo>();
    const output = new ObservableCtor<Batch<T>>((subscriber) =>
      source.subscribe({
        next: (batch) => {
          const input = infoOfBatch(batch);
          let info = cache.get(input);
          if (info === undefined) {
            info = freezeInfo({ ...stage.derive([input]), query: context });
            cache.set(input, info);
          }
          subscriber.next(stamp({ ...batch }, info));
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    );
    return stage.attach(output);
  };
}

/** Marks `observable` as a source: a fresh stream whose info is known before any batch (no watermark, nothing stateful). */
export function sourceNode<O extends Observable<unknown>>(observable: O): O {
  return attachNode(observable, { op: 'source', inputs: [], info: SOURCE_INFO, refusal: undefined, aggregation: false, requestedMode: undefined, requestedBy: undefined, binding: undefined });
}

/**
 * Gives every unnamed stateful operator of a query its id when the query is
 * built (`startQuery`, a `checkpoint` operator): `<kind>#<n>`, n the number
 * of stateful operators upstream of it, as {@link operatorIdOf} computes it
 * from the batches; operators that would share one (the same kind at the same
 * depth in parallel branches, such as a `withWatermark` on each side of a
 * join) are told apart by their place in the graph — inputs in argument
 * order, the first keeps the plain id, the next get `.2`, `.3`… — so ids
 * depend only on the pipeline's shape, never on which batch arrives first.
 */
export function assignOperatorIds(output: Observable<unknown>, queryInputs: readonly string[]): void {
  const root = findNode(output)?.node;
  if (root === undefined) return;
  const order: PipelineNode[] = [];
  const seen = new Set<PipelineNode>();
  const visit = (node: PipelineNode | undefined): void => {
    if (node === undefined || seen.has(node)) return;
    seen.add(node);
    for (const input of node.inputs) visit(input);
    order.push(node);
  };
  visit(root);
  const upstream = new Map<PipelineNode, Set<PipelineNode>>();
  const taken = new Set<string>();
  for (const node of order) {
    const above = new Set<PipelineNode>();
    for (const input of node.inputs) {
      if (input === undefined) continue;
      for (const s of upstream.get(input) ?? []) above.add(s);
      if (input.statefulKind !== undefined) above.add(input);
    }
    upstream.set(node, above);
    if (node.statefulKind === undefined) continue;
    const names = node.info?.inputs ?? [];
    const suffix = queryInputs.length > 1 && names.length > 0 && names.length < queryInputs.length ? `@${[...names].sort().join('+')}` : '';
    const base = `${node.statefulKind}#${above.size}${suffix}`;
    let id = base;
    for (let k = 2; taken.has(id); k++) id = `${base}.${k}`;
    taken.add(id);
    node.assignedId = id;
  }
}

/**
 * Asks the query's checkpoint to decode, now, the restored state of every
 * stateful operator of the pipeline whose id and codec are known as it is
 * built (`startQuery` calls it before the query is ready, so recovery is
 * done by then rather than in the first batch). Registration still happens
 * on the first batch and still checks the operator against the checkpoint;
 * it then takes the decoded state instead of decoding it. Operators hidden
 * behind a foreign Observable are not found and decode at registration, as
 * before.
 */
export function prepareRestoredState(output: Observable<unknown>, query: QueryContext): void {
  if (query.prepareState === undefined) return;
  for (const node of upstreamNodes(output)) {
    if (node.stateCodec === undefined) continue;
    const id = node.statefulName ?? node.assignedId;
    if (id !== undefined) query.prepareState(id, node.stateCodec);
  }
}

/** What a stateful operator registers (see {@link registerStage}). */
export interface StatefulSpec<S> {
  readonly kind: string;
  readonly name: string | undefined;
  readonly descriptor: unknown;
  readonly codec: StateCodec<S>;
  readonly outputMode?: OutputModeName;
}
