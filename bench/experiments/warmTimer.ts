// The timer of the warm in-process experiments: runs `work` `rounds` times and reports the median
// CPU time of the rounds after the first `warmup` (the JIT has compiled the hot loops by then).

/** Median CPU ms of the warm rounds, and the result of the last round (checked by the caller). */
export function warmCpuMedian<R>(work: () => R, rounds = 8, warmup = 2): { readonly ms: number; readonly result: R } {
  const times: number[] = [];
  let result = work();
  for (let k = 1; k < rounds; k++) {
    const c = process.cpuUsage();
    result = work();
    const d = process.cpuUsage(c);
    if (k >= warmup) times.push((d.user + d.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1]!, result };
}
