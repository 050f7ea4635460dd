// Small inline-SVG line charts for the operator console: one series over the last few minutes, no library.

export interface Sample { t: number; v: number }

const W = 240;
const H = 56;
const NS = "http://www.w3.org/2000/svg";

/** Draws `series` (oldest first) over the last `windowMs` (or the history there is, if shorter) into a fresh <svg>; `label` becomes its accessible name. */
export function lineChart(series: Sample[][], windowMs: number, now: number, label: string, scale: { max?: number; minMax?: number } = {}): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.classList.add("chart");
  const all = series.flat().filter((s) => now - s.t <= windowMs);
  // Until there are minutes of history, stretch what there is across the chart (at least 30 s wide).
  const oldest = Math.min(now, ...all.map((s) => s.t));
  windowMs = Math.min(windowMs, Math.max(30_000, now - oldest));
  // A fixed top (a ratio) or a floor for the top, so a flat series of small counts does not fill the chart.
  const max = scale.max ?? Math.max(scale.minMax ?? 1e-9, ...all.map((s) => s.v));
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
