/**
 * The script of the progress page, run in the browser. `serveProgress`
 * serves its source text (`progressApp.toString()`), so the function must
 * stay self-contained: it uses nothing from outside its body but browser
 * globals, and its types are erased when compiled.
 *
 * It reads the server's event stream (`api/events`): a `snapshot` first (and
 * again after a reconnect), then `query` (a query's header: status, end,
 * exception) and `progress` (one report) events, and redraws the changed
 * query's card: hand-written SVG charts of input vs processed rows/s, batch
 * duration by phase, state rows per operator, watermark vs max event time,
 * rows dropped late, and the last error. Every chart carries
 * `data-points` and `data-last-batch`; `body[data-events]` counts the events
 * received, so a test can wait for the page to follow the feed.
 */
export function progressApp(): void {
  interface Status {
    readonly message: string;
    readonly isDataAvailable: boolean;
    readonly isTriggerActive: boolean;
  }
  interface ErrorView {
    readonly name: string;
    readonly message: string;
    readonly stack: string | null;
  }
  interface StateOperator {
    readonly operatorName: string;
    readonly operatorId: string;
    readonly numRowsTotal: number;
    readonly numRowsDroppedByWatermark: number;
  }
  interface Progress {
    readonly batchId: number;
    readonly timestamp: string;
    readonly numInputRows: number;
    readonly inputRowsPerSecond: number;
    readonly processedRowsPerSecond: number;
    readonly durationMs: Readonly<Record<string, number>>;
    readonly eventTime: { readonly watermark?: string; readonly max?: string };
    readonly stateOperators: readonly StateOperator[];
    readonly numRowsDroppedInvalidEventTime?: number;
    readonly sink: { readonly numOutputRows: number };
  }
  interface Header {
    readonly id: string;
    readonly runId: string;
    readonly name: string | null;
    readonly isActive: boolean;
    readonly status: Status;
    readonly exception: ErrorView | null;
  }
  interface View extends Header {
    recentProgress: Progress[];
  }
  interface Series {
    readonly label: string;
    readonly color: string;
    readonly points: readonly (readonly [number, number])[];
  }

  const SVG = 'http://www.w3.org/2000/svg';
  const W = 420;
  const H = 190;
  const M = { left: 58, right: 12, top: 12, bottom: 30 };
  const HISTORY = Number(document.body.dataset['history']) || 100;
  const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f'];
  const PHASES: readonly [string, string, string][] = [
    ['latestOffset', 'latest offset', '#4e79a7'],
    ['getBatch', 'get batch', '#59a14f'],
    ['addBatch', 'add batch (pipeline + sink)', '#f28e2b'],
    // The WAL entry is written while the batch runs (walCommit overlaps addBatch): stack only the wait for it.
    ['walWait', 'WAL wait', '#b07aa1'],
    ['commitOffsets', 'commit', '#76b7b2'],
  ];

  const views = new Map<string, View>();
  const cards = new Map<string, HTMLElement>();
  const list = document.getElementById('queries')!;
  const connection = document.getElementById('connection')!;
  let events = 0;

  // ------------------------------------------------------------ formatting

  function fmt(n: number): string {
    if (!Number.isFinite(n)) return '–';
    const a = Math.abs(n);
    if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
    if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
    if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
    if (a >= 100 || Number.isInteger(n)) return String(Math.round(n));
    return n.toFixed(a >= 10 ? 1 : 2);
  }

  function fmtDuration(ms: number): string {
    const a = Math.abs(ms);
    if (a < 10) return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
    if (a < 1000) return `${Math.round(ms)} ms`;
    if (a < 60_000) return `${(ms / 1000).toFixed(a < 10_000 ? 1 : 0)} s`;
    if (a < 3_600_000) return `${(ms / 60_000).toFixed(a < 600_000 ? 1 : 0)} min`;
    return `${(ms / 3_600_000).toFixed(1)} h`;
  }

  function fmtTime(ms: number, spanMs: number): string {
    // An axis tick beyond the Date range (a chart near its ends) is shown as the number, never a RangeError.
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return String(ms);
    const iso = new Date(ms).toISOString();
    return spanMs > 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 19);
  }

  function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const child of children) node.append(child);
    return node;
  }

  function svg(tag: string, attrs: Record<string, string | number> = {}, text?: string): SVGElement {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** About `count` round tick values covering [lo, hi]. */
  function ticks(lo: number, hi: number, count: number): number[] {
    if (hi <= lo) hi = lo + 1;
    const raw = (hi - lo) / count;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
    const out: number[] = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }

  /** Time ticks at round units (seconds, minutes, hours). */
  function timeTicks(lo: number, hi: number): number[] {
    const units = [1000, 5000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 86_400_000];
    const step = units.find((u) => (hi - lo) / u <= 5) ?? 86_400_000;
    const out: number[] = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) out.push(v);
    return out.length > 0 ? out : [lo];
  }

  // ------------------------------------------------------------ charts

  interface Frame {
    readonly root: SVGElement;
    x(batchId: number): number;
    y(value: number): number;
    readonly band: number;
  }

  /** An empty chart with axes: x = batch ids, y = [lo, hi]. */
  function frame(target: Element, batchIds: readonly number[], lo: number, hi: number, yLabel: (v: number) => string, yTicks: readonly number[], bars: boolean): Frame {
    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img' });
    const x0 = batchIds.length > 0 ? batchIds[0]! : 0;
    const x1 = batchIds.length > 0 ? batchIds[batchIds.length - 1]! : 1;
    const innerW = W - M.left - M.right;
    const innerH = H - M.top - M.bottom;
    const slots = Math.max(1, x1 - x0 + (bars ? 1 : 0));
    const band = bars ? innerW / slots : innerW / Math.max(1, x1 - x0);
    const x = (b: number): number => (bars ? M.left + (b - x0 + 0.5) * band : M.left + (x1 === x0 ? innerW / 2 : ((b - x0) / (x1 - x0)) * innerW));
    const span = hi - lo || 1;
    const y = (v: number): number => M.top + innerH - ((v - lo) / span) * innerH;
    for (const t of yTicks) {
      root.append(svg('line', { x1: M.left, x2: W - M.right, y1: y(t), y2: y(t), class: 'grid' }));
      root.append(svg('text', { x: M.left - 6, y: y(t) + 4, class: 'tick', 'text-anchor': 'end' }, yLabel(t)));
    }
    const every = Math.max(1, Math.ceil((x1 - x0 + 1) / 8));
    for (let b = x0; b <= x1; b += every) {
      root.append(svg('text', { x: x(b), y: H - M.bottom + 16, class: 'tick', 'text-anchor': 'middle' }, String(b)));
    }
    root.append(svg('text', { x: W - M.right, y: H - 2, class: 'axis', 'text-anchor': 'end' }, 'batch'));
    root.append(svg('line', { x1: M.left, x2: W - M.right, y1: M.top + innerH, y2: M.top + innerH, class: 'axisline' }));
    target.replaceChildren(root);
    return { root, x, y, band };
  }

  /**
   * A line per series. `scale`: 'linear' from 0, 'time' (epoch ms, y labels as times), or 'auto': linear, or
   * log10 when the positive values span more than two orders of magnitude (input rate vs processing rate).
   * Returns whether it drew a log scale.
   */
  function lineChart(target: Element, batchIds: readonly number[], series: readonly Series[], yLabel: (v: number) => string, scale: 'auto' | 'time' = 'auto'): boolean {
    const values = series.flatMap((s) => s.points.map((p) => p[1]));
    const positive = values.filter((v) => v > 0);
    const log = scale === 'auto' && positive.length > 1 && Math.max(...positive) / Math.min(...positive) > 100;
    let lo: number;
    let hi: number;
    let yTicks: number[];
    let t = (v: number): number => v;
    if (log) {
      lo = Math.floor(Math.log10(Math.min(...positive)));
      hi = Math.ceil(Math.log10(Math.max(...positive)));
      yTicks = [];
      for (let e = lo; e <= hi; e++) yTicks.push(e);
      const floor = lo;
      t = (v: number): number => (v > 0 ? Math.max(floor, Math.log10(v)) : floor);
    } else if (scale === 'time') {
      lo = values.length > 0 ? Math.min(...values) : 0;
      hi = values.length > 0 ? Math.max(...values) : 60_000;
      if (!(hi > lo)) hi = lo + 60_000;
      yTicks = values.length > 0 ? timeTicks(lo, hi) : [];
      lo = Math.min(lo, yTicks[0] ?? lo);
    } else {
      lo = 0;
      hi = values.length > 0 ? Math.max(1, ...values) : 1;
      yTicks = ticks(lo, hi, 4);
      hi = Math.max(hi, yTicks[yTicks.length - 1]!);
    }
    const label = log ? (e: number): string => yLabel(10 ** e) : yLabel;
    const f = frame(target, batchIds, lo, hi, label, yTicks, false);
    for (const s of series) {
      if (s.points.length === 0) continue;
      const d = s.points.map(([b, v], i) => `${i === 0 ? 'M' : 'L'}${f.x(b).toFixed(1)},${f.y(t(v)).toFixed(1)}`).join(' ');
      f.root.append(svg('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-linejoin': 'round' }));
      for (const [b, v] of s.points) {
        const dot = svg('circle', { cx: f.x(b).toFixed(1), cy: f.y(t(v)).toFixed(1), r: s.points.length > 40 ? 1.5 : 3, fill: s.color });
        dot.append(svg('title', {}, `${s.label}, batch ${b}: ${yLabel(v)}`));
        f.root.append(dot);
      }
    }
    return log;
  }

  function stackedBars(target: Element, batchIds: readonly number[], stacks: readonly { readonly label: string; readonly color: string; readonly values: readonly number[] }[], yLabel: (v: number) => string): void {
    const totals = batchIds.map((_, i) => stacks.reduce((n, s) => n + (s.values[i] ?? 0), 0));
    const yTicks = ticks(0, Math.max(1, ...totals), 4);
    const f = frame(target, batchIds, 0, Math.max(1, ...totals, yTicks[yTicks.length - 1]!), yLabel, yTicks, true);
    const width = Math.max(1, Math.min(28, f.band * 0.7));
    batchIds.forEach((b, i) => {
      let base = 0;
      for (const s of stacks) {
        const v = s.values[i] ?? 0;
        if (v <= 0) continue;
        const rect = svg('rect', { x: (f.x(b) - width / 2).toFixed(1), y: f.y(base + v).toFixed(1), width: width.toFixed(1), height: Math.max(0.5, f.y(base) - f.y(base + v)).toFixed(1), fill: s.color });
        rect.append(svg('title', {}, `batch ${b}, ${s.label}: ${yLabel(v)}`));
        f.root.append(rect);
        base += v;
      }
    });
  }

  function legend(items: readonly { readonly label: string; readonly color: string }[]): HTMLElement {
    return el('ul', { class: 'legend' }, ...items.map((i) => el('li', {}, el('span', { class: 'swatch', style: `background:${i.color}` }), i.label)));
  }

  function chartCard(parent: Element, key: string, title: string, note: string): { body: HTMLElement; legendBox: HTMLElement; noteBox: HTMLElement; card: HTMLElement } {
    let card = parent.querySelector<HTMLElement>(`figure[data-chart="${key}"]`);
    if (card === null) {
      card = el('figure', { class: 'chart', 'data-chart': key }, el('figcaption', {}, el('span', { class: 'title' }, title), el('span', { class: 'note' }, note)), el('div', { class: 'plot' }), el('div', { class: 'legend-box' }));
      parent.append(card);
    }
    return { card, body: card.querySelector<HTMLElement>('.plot')!, legendBox: card.querySelector<HTMLElement>('.legend-box')!, noteBox: card.querySelector<HTMLElement>('.note')! };
  }

  function mark(card: HTMLElement, reports: readonly Progress[]): void {
    card.dataset['points'] = String(reports.length);
    card.dataset['lastBatch'] = reports.length > 0 ? String(reports[reports.length - 1]!.batchId) : '';
  }

  // ------------------------------------------------------------ one query

  function cardFor(view: View): HTMLElement {
    let card = cards.get(view.runId);
    if (card === undefined) {
      card = el(
        'section',
        { class: 'query', 'data-run-id': view.runId, 'data-query-id': view.id },
        el('div', { class: 'head' }, el('h2', {}), el('span', { class: 'badge' }), el('div', { class: 'ids' })),
        el('div', { class: 'status' }),
        el('dl', { class: 'stats' }),
        el('div', { class: 'charts' }),
        el('div', { class: 'error' }),
        el('details', { class: 'raw' }, el('summary', {}, 'Last progress report (JSON)'), el('pre', {})),
      );
      cards.set(view.runId, card);
      list.append(card);
      document.getElementById('empty')?.remove();
    }
    return card;
  }

  function renderHeader(view: View, card: HTMLElement): void {
    card.querySelector('h2')!.textContent = view.name ?? 'unnamed query';
    const failed = view.exception !== null;
    const badge = card.querySelector<HTMLElement>('.badge')!;
    badge.textContent = view.isActive ? 'active' : failed ? 'failed' : 'stopped';
    badge.className = `badge ${view.isActive ? 'active' : failed ? 'failed' : 'stopped'}`;
    card.dataset['state'] = badge.textContent;
    card.querySelector('.ids')!.replaceChildren(el('span', {}, 'id ', el('code', {}, view.id)), el('span', {}, 'run ', el('code', {}, view.runId)));
    const flag = (label: string, on: boolean): HTMLElement => el('span', { class: `flag ${on ? 'on' : 'off'}` }, `${label}: ${on ? 'yes' : 'no'}`);
    card.querySelector('.status')!.replaceChildren(el('span', { class: 'message' }, view.status.message), flag('data available', view.status.isDataAvailable), flag('trigger active', view.status.isTriggerActive));
    const error = card.querySelector<HTMLElement>('.error')!;
    if (view.exception === null) {
      error.replaceChildren();
      error.hidden = true;
    } else {
      error.hidden = false;
      error.replaceChildren(el('h3', {}, 'Last error'), el('p', {}, el('strong', {}, view.exception.name), `: ${view.exception.message}`), el('pre', {}, view.exception.stack ?? ''));
    }
  }

  function renderProgress(view: View, card: HTMLElement): void {
    const reports = view.recentProgress;
    const ids = reports.map((p) => p.batchId);
    card.dataset['batches'] = String(reports.length);
    card.dataset['lastBatch'] = reports.length > 0 ? String(ids[ids.length - 1]) : '';
    const last = reports[reports.length - 1];
    const totalRows = reports.reduce((n, p) => n + p.numInputRows, 0);
    const lateOf = (p: Progress): number => p.stateOperators.reduce((n, s) => n + s.numRowsDroppedByWatermark, 0);
    const stat = (label: string, value: string): HTMLElement => el('div', { class: 'stat' }, el('dt', {}, label), el('dd', {}, value));
    const wm = last?.eventTime.watermark;
    card.querySelector('.stats')!.replaceChildren(
      stat('batches', reports.length === 0 ? '0' : `${reports.length}${reports.length >= HISTORY ? '+' : ''} (last #${last!.batchId})`),
      stat('input rows (charted)', fmt(totalRows)),
      stat('last input rate', last === undefined ? '–' : `${fmt(last.inputRowsPerSecond)} rows/s`),
      stat('last processing rate', last === undefined ? '–' : `${fmt(last.processedRowsPerSecond)} rows/s`),
      stat('watermark', wm === undefined ? 'none' : wm.replace('T', ' ').replace(/\.000Z$/, 'Z')),
      stat('state rows', last === undefined ? '–' : fmt(last.stateOperators.reduce((n, s) => n + s.numRowsTotal, 0))),
      stat('late rows dropped', fmt(reports.reduce((n, p) => n + lateOf(p), 0))),
    );
    const charts = card.querySelector('.charts')!;

    const rates = chartCard(charts, 'rates', 'Input vs processing rate', 'rows/s');
    const rateSeries: Series[] = [
      { label: 'input rows/s', color: '#4e79a7', points: reports.map((p) => [p.batchId, p.inputRowsPerSecond] as const) },
      { label: 'processed rows/s', color: '#f28e2b', points: reports.map((p) => [p.batchId, p.processedRowsPerSecond] as const) },
    ];
    rates.noteBox.textContent = lineChart(rates.body, ids, rateSeries, fmt) ? 'rows/s, log scale' : 'rows/s';
    rates.legendBox.replaceChildren(legend(rateSeries));
    mark(rates.card, reports);

    const durations = chartCard(charts, 'durations', 'Batch duration by phase', 'ms');
    const stacks = PHASES.map(([key, label, color]) => ({ label, color, values: reports.map((p) => p.durationMs[key] ?? 0) }));
    stackedBars(durations.body, ids, stacks, (v) => fmtDuration(v));
    durations.legendBox.replaceChildren(legend(stacks));
    mark(durations.card, reports);

    const state = chartCard(charts, 'state', 'State rows per operator', 'rows in state');
    const operators = [...new Set(reports.flatMap((p) => p.stateOperators.map((s) => s.operatorId)))];
    const stateSeries: Series[] = operators.map((opId, i) => ({
      label: opId,
      color: PALETTE[i % PALETTE.length]!,
      points: reports.flatMap((p) => p.stateOperators.filter((s) => s.operatorId === opId).map((s) => [p.batchId, s.numRowsTotal] as const)),
    }));
    lineChart(state.body, ids, stateSeries, fmt);
    state.legendBox.replaceChildren(operators.length === 0 ? el('p', { class: 'empty-note' }, 'no stateful operator') : legend(stateSeries));
    mark(state.card, reports);

    const watermark = chartCard(charts, 'watermark', 'Watermark vs max event time', '');
    let maxSoFar = Number.NEGATIVE_INFINITY;
    const maxPoints: [number, number][] = [];
    const wmPoints: [number, number][] = [];
    for (const p of reports) {
      if (p.eventTime.max !== undefined) maxSoFar = Math.max(maxSoFar, Date.parse(p.eventTime.max));
      if (Number.isFinite(maxSoFar)) maxPoints.push([p.batchId, maxSoFar]);
      if (p.eventTime.watermark !== undefined) wmPoints.push([p.batchId, Date.parse(p.eventTime.watermark)]);
    }
    const allTimes = [...maxPoints, ...wmPoints].map((p) => p[1]);
    const span = allTimes.length > 0 ? Math.max(...allTimes) - Math.min(...allTimes) : 0;
    const wmSeries: Series[] = [
      { label: 'max event time seen', color: '#4e79a7', points: maxPoints },
      { label: 'watermark', color: '#e15759', points: wmPoints.filter(([, v]) => v > 0) },
    ];
    lineChart(watermark.body, ids, wmSeries, (v) => fmtTime(v, span), 'time');
    const lastWm = wmPoints[wmPoints.length - 1];
    const lag = lastWm !== undefined && lastWm[1] > 0 && Number.isFinite(maxSoFar) ? maxSoFar - lastWm[1] : undefined;
    watermark.noteBox.textContent = lag === undefined ? (wmPoints.length === 0 ? 'no watermark' : 'lag: –') : `lag ${fmtDuration(lag)}`;
    watermark.card.dataset['lagMs'] = lag === undefined ? '' : String(lag);
    watermark.legendBox.replaceChildren(legend(wmSeries));
    mark(watermark.card, reports);

    const late = chartCard(charts, 'late', 'Rows dropped late', 'rows per batch');
    const lateStacks = [
      { label: 'behind the watermark', color: '#e15759', values: reports.map(lateOf) },
      { label: 'invalid event time', color: '#edc948', values: reports.map((p) => p.numRowsDroppedInvalidEventTime ?? 0) },
    ];
    stackedBars(late.body, ids, lateStacks, fmt);
    late.legendBox.replaceChildren(legend(lateStacks));
    mark(late.card, reports);

    card.querySelector('.raw pre')!.textContent = last === undefined ? 'no batch yet' : JSON.stringify(last, null, 2);
  }

  function render(view: View): void {
    const card = cardFor(view);
    renderHeader(view, card);
    renderProgress(view, card);
  }

  // ------------------------------------------------------------ the feed

  function count(): void {
    events++;
    document.body.dataset['events'] = String(events);
  }

  const source = new EventSource('api/events');
  source.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.className = 'live';
    document.body.dataset['connection'] = 'open';
  });
  source.addEventListener('error', () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'down';
    document.body.dataset['connection'] = 'closed';
  });
  source.addEventListener('snapshot', (e) => {
    const snapshot = JSON.parse((e as MessageEvent<string>).data) as { queries: View[] };
    for (const q of snapshot.queries) {
      views.set(q.runId, { ...q, recentProgress: [...q.recentProgress] });
      render(views.get(q.runId)!);
    }
    count();
  });
  source.addEventListener('query', (e) => {
    const header = JSON.parse((e as MessageEvent<string>).data) as Header;
    const view: View = { ...header, recentProgress: views.get(header.runId)?.recentProgress ?? [] };
    views.set(header.runId, view);
    const card = cardFor(view);
    renderHeader(view, card);
    if (card.dataset['batches'] === undefined) renderProgress(view, card);
    count();
  });
  source.addEventListener('progress', (e) => {
    const { runId, progress } = JSON.parse((e as MessageEvent<string>).data) as { runId: string; progress: Progress };
    const view = views.get(runId);
    if (view !== undefined) {
      view.recentProgress.push(progress);
      if (view.recentProgress.length > HISTORY) view.recentProgress.shift();
      renderProgress(view, cardFor(view));
    }
    count();
  });
}
