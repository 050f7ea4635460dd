// The result table: one row per figure, ours beside nginx's, printed as markdown.

export interface Row {
  what: string;
  ours: string;
  nginx: string;
  ratio: string;
}

/** Formats a number for the table: thousands separated, `digits` decimals. */
export function num(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return "—";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** ours ÷ nginx with two decimals, or a dash when either side is missing. */
export function ratio(ours: number | undefined, theirs: number | undefined): string {
  if (ours === undefined || theirs === undefined || !Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return "—";
  return `${(ours / theirs).toFixed(2)}×`;
}

export function markdownTable(rows: Row[]): string {
  const header = ["what", "ours", "nginx proxy_cache", "ours ÷ nginx"];
  const lines = [`| ${header.join(" | ")} |`, "|---|--:|--:|--:|"];
  for (const r of rows) lines.push(`| ${r.what} | ${r.ours} | ${r.nginx} | ${r.ratio} |`);
  return lines.join("\n");
}
