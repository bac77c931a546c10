// A progress bar on stderr with rate and time left: redrawn in place on a terminal, one line
// every few seconds otherwise (logs, CI).

export interface ProgressBar {
  /** `done` of `total` units finished; `extra` is shown after the rate (e.g. the losses). */
  update(done: number, extra?: string): void;
  /** Ends the bar's line. */
  finish(extra?: string): void;
}

export interface ProgressOptions {
  /** Units to do; 0 when unknown (then no bar and no ETA). */
  readonly total: number;
  readonly label: string;
  /** The unit of the rate, e.g. "it" or "img". */
  readonly unit?: string;
  readonly stream?: NodeJS.WriteStream;
  /** Seconds between lines when not on a terminal. */
  readonly logEverySeconds?: number;
}

export function createProgressBar(o: ProgressOptions): ProgressBar {
  const stream = o.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const t0 = performance.now();
  let start = -1;
  let startT = t0;
  let lastLog = 0;
  let last = "";
  const render = (done: number, extra?: string): string => {
    const now = performance.now();
    if (start < 0) {
      start = done;
      startT = now;
    }
    const rate = (done - start) / Math.max(1e-9, (now - startT) / 1000);
    const frac = o.total > 0 ? Math.min(1, done / o.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const eta = rate > 0 ? (o.total - done) / rate : Number.NaN;
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    const unit = o.unit ?? "it";
    const rateText =
      rate > 0
        ? rate >= 1
          ? `${rate.toFixed(2)} ${unit}/s`
          : `${(1 / rate).toFixed(2)} s/${unit}`
        : `- ${unit}/s`;
    const tail = `elapsed ${fmtDuration((now - t0) / 1000)}${extra ? ` | ${extra}` : ""}`;
    if (o.total <= 0) return `${o.label} ${done} ${unit} ${rateText} ${tail}`;
    return `${o.label} ${bar} ${done}/${o.total} ${rateText} ETA ${fmtDuration(eta)} ${tail}`;
  };
  return {
    update(done, extra) {
      last = render(done, extra);
      if (tty) stream.write(`\r\x1b[2K${last}`);
      else if (performance.now() - lastLog > (o.logEverySeconds ?? 5) * 1000 || done === o.total) {
        lastLog = performance.now();
        stream.write(`${last}\n`);
      }
    },
    finish(extra) {
      const text = extra ? `${last} | ${extra}` : last;
      stream.write(tty ? `\r\x1b[2K${text}\n` : "");
    },
  };
}

/** 75 -> "1m15s"; NaN -> "?". */
export function fmtDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
