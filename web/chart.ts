// Small inline-SVG line charts for the operator console: a series or two over the last few minutes, no library; the
// console labels each with its unit, span and top (chartSpanMs, chartTop).

export interface Sample { t: number; v: number }

const W = 240;
const H = 56;
const NS = "http://www.w3.org/2000/svg";

export interface Scale { max?: number; minMax?: number }

/** The time span a chart of `series` shows: the last `windowMs`, or the history there is while shorter (at least 30 s). */
export function chartSpanMs(series: Sample[][], windowMs: number, now: number): number {
  const all = series.flat().filter((s) => now - s.t <= windowMs);
  const oldest = Math.min(now, ...all.map((s) => s.t));
  return Math.min(windowMs, Math.max(30_000, now - oldest));
}

/** The value at the top of a chart: a fixed top (a ratio), or the highest point with a floor, so a flat series of small counts does not fill the chart. */
export function chartTop(series: Sample[][], windowMs: number, now: number, scale: Scale = {}): number {
  const all = series.flat().filter((s) => now - s.t <= windowMs);
  return scale.max ?? Math.max(scale.minMax ?? 1e-9, ...all.map((s) => s.v));
}

/** Draws `series` (oldest first) over chartSpanMs into a fresh <svg>, 0 at the bottom and chartTop at the top; `label` becomes its accessible name. */
export function lineChart(series: Sample[][], windowMs: number, now: number, label: string, scale: Scale = {}): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.classList.add("chart");
  const max = chartTop(series, windowMs, now, scale);
  windowMs = chartSpanMs(series, windowMs, now);
  series.forEach((points, i) => {
    const visible = points.filter((s) => now - s.t <= windowMs);
    if (!visible.length) return;
    const xy = visible.map((s) => `${(((s.t - (now - windowMs)) / windowMs) * W).toFixed(1)},${(H - 2 - (s.v / max) * (H - 6)).toFixed(1)}`);
    if (visible.length === 1) xy.unshift(`0,${xy[0]!.split(",")[1]}`);
    const line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", xy.join(" "));
    line.setAttribute("class", `series s${i}`);
    svg.append(line);
  });
  return svg;
}
