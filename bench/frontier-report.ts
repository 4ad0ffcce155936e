import { PRODUCER_SETTINGS } from './frontier.js';
import type { FrontierPoint, FrontierResults } from './frontier-model.js';

/**
 * The frontier's table (markdown, also printed by `npm run bench`) and its chart: two log-log panels, the
 * monthly bill of one topic against its rate, and of a fleet of small topics against their number.
 */

const usd = (n: number) => (n >= 100 ? `$${Math.round(n).toLocaleString('en-US')}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(3)}`);
const num = (n: number) => (n >= 1 ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(n));
const table = (head: string[], rows: Array<Array<string | number>>) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const rows = (points: readonly FrontierPoint[]) =>
  points.map((p) => [
    num(p.x),
    ...PRODUCER_SETTINGS.map((s) => `${usd(p.shardlog[s.key].total)} (${num(Math.round(p.shardlog[s.key].recordsPerRequest * 10) / 10)})`),
    usd(p.kinesisOnDemand),
    `${usd(p.kinesisProvisioned)} (${p.shards})`,
    `${usd(p.advantage)}${p.advantageApplies ? '' : '*'}`,
  ]);

/** The frontier as markdown: both tables, the trade-off of `lingerMs`, the crossovers in words. */
export function renderFrontierMarkdown(r: FrontierResults, chartFile?: string): string {
  const a = r.assumptions;
  const head = (x: string) => [x, ...PRODUCER_SETTINGS.map((s) => `${s.label} (records/request)`), 'Kinesis on-demand', 'Kinesis provisioned (shards)', 'On-demand Advantage'];
  return [
    '## The cost frontier: shardlog against Kinesis Data Streams',
    `Monthly bill of 1 KB records, ${a.partitions} partitions, ${a.consumerGroups} consumer groups polling every ${a.pollIntervalS} s, ${a.retentionDays}-day retention; ` +
      `${a.producersPerTopic} producer processes per topic, each the real SDK \`Producer\` run in virtual time with a ${a.produceRoundTripMs} ms round trip (bench/batching.ts). ` +
      'shardlog is priced from the units measured per request at each batch size, produced and read as the SDK does by default (binary, idempotent produces; fetches with spilled batches by URL: bench/sdk-calls.ts); Kinesis from its price table (bench/prices.ts). ' +
      `A fleet shares one scheduled maintenance invocation ($${r.sharedFleetMonthly.toFixed(2)}/month). ` +
      `A topic at ${r.floor.recordsPerSecond} records/s costs $${r.floor.total.toFixed(2)}, $${r.floor.consumers.toFixed(2)} of it its consumers' polls, commits and heartbeats (a topic nobody reads costs the rest). ` +
      `Consumers are modeled as the bill's, as the SDK consumer polls by default: a poll every ${a.pollIntervalS} s that does not wait. A consumer given a \`waitMs\` long-polls inside the groups function, which then runs all month: $${r.floor.longPollPerMember.toFixed(2)} per member in Lambda duration alone, more than a Kinesis stream.`,
    ...(chartFile ? [`![the cost frontier](${chartFile})`] : []),
    '### One topic, by records/s',
    table(head('records/s'), rows(r.byRate)),
    `### Topics of ${a.fleetTopicRate} record/s each, by number of topics`,
    table(head('topics'), rows(r.byTopics)),
    '\\* On-demand Advantage\'s commitment (25 MiB/s written and read, account-wide: 25,600 records/s of 1 KB, e.g. 1,000 topics of 25.6 records/s) is not met by these topics alone: the price holds only for an account that meets it elsewhere.',
    `### lingerMs at the reference rate (${a.referenceRate} records/s, ${a.producersPerTopic} producers)`,
    table(
      ['lingerMs', 'records per request', 'added latency p50 / p99', 'monthly'],
      r.lingers.map((l) => [l.lingerMs, num(l.recordsPerRequest), `${l.addedLatencyMs.p50} / ${l.addedLatencyMs.p99} ms`, usd(l.monthly)]),
    ),
    `Measured in real time: ${a.producersPerTopic} SDK producers at ${a.referenceRate} records/s in all over HTTP to the local stack (its round trips, not AWS's).`,
    table(
      ['producers', 'records', 'requests', 'records per request', 'send → ack p50 / p99 (this machine)', 'monthly at this rate'],
      r.live.map((l) => [l.label, l.records, l.requests, num(l.recordsPerRequest), `${l.ackMs.p50} / ${l.ackMs.p99} ms`, usd(l.monthly)]),
    ),
    '### Where the curves cross',
    ...r.crossovers.map((c) => `- ${c}`),
    '',
  ].join('\n\n');
}

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dash?: string;
  readonly values: readonly number[];
}

const COLORS = { oldDefault: '#9ecae1', defaults: '#2171b5', tuned: '#08306b', onDemand: '#e6550d', provisioned: '#636363', advantage: '#fdae6b' };

function series(points: readonly FrontierPoint[]): Series[] {
  return [
    ...PRODUCER_SETTINGS.map((s) => ({ label: s.label, color: COLORS[s.key], ...(s.key === 'oldDefault' ? { dash: '6 4' } : {}), values: points.map((p) => p.shardlog[s.key].total) })),
    { label: 'Kinesis on-demand', color: COLORS.onDemand, values: points.map((p) => p.kinesisOnDemand) },
    { label: 'Kinesis provisioned', color: COLORS.provisioned, values: points.map((p) => p.kinesisProvisioned) },
    { label: 'On-demand Advantage (if committed)', color: COLORS.advantage, dash: '3 3', values: points.map((p) => p.advantage) },
  ];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const text = (x: number, y: number, s: string, o: { size?: number; anchor?: string; weight?: string; fill?: string; rotate?: boolean } = {}) =>
  `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-family="Helvetica, Arial, sans-serif" font-size="${o.size ?? 12}" text-anchor="${o.anchor ?? 'start'}" font-weight="${o.weight ?? 'normal'}" fill="${o.fill ?? '#222'}"${o.rotate ? ` transform="rotate(-90 ${x.toFixed(1)} ${y.toFixed(1)})"` : ''}>${esc(s)}</text>`;
const decade = (e: number) => (e >= 0 ? (10 ** e).toLocaleString('en-US') : String(10 ** e));

/** One log-log panel at (x0, y0) of w × h: axes with decades, a line per series, an optional marker. */
function panel(x0: number, y0: number, w: number, h: number, xs: readonly number[], all: readonly Series[], o: { title: string; xLabel: string; marker?: { x: number; label: string } }): string[] {
  // From $1 up: below it only Advantage without its commitment, which is not a price anyone pays alone.
  const ys = all.flatMap((s) => s.values).filter((v) => v >= 1);
  const [xMin, xMax] = [Math.floor(Math.log10(Math.min(...xs))), Math.ceil(Math.log10(Math.max(...xs)))];
  const [yMin, yMax] = [Math.floor(Math.log10(Math.min(...ys))), Math.ceil(Math.log10(Math.max(...ys)))];
  const px = (x: number) => x0 + ((Math.log10(x) - xMin) / (xMax - xMin)) * w;
  const py = (y: number) => y0 + h - ((Math.log10(y) - yMin) / (yMax - yMin)) * h;
  const out = [text(x0, y0 - 14, o.title, { size: 14, weight: 'bold' })];
  out.push(`<rect x="${x0}" y="${y0}" width="${w}" height="${h}" fill="none" stroke="#bbb"/>`);
  for (let e = xMin; e <= xMax; e++) {
    out.push(`<line x1="${px(10 ** e)}" y1="${y0}" x2="${px(10 ** e)}" y2="${y0 + h}" stroke="#eee"/>`, text(px(10 ** e), y0 + h + 16, decade(e), { size: 11, anchor: 'middle' }));
  }
  for (let e = yMin; e <= yMax; e++) {
    out.push(`<line x1="${x0}" y1="${py(10 ** e)}" x2="${x0 + w}" y2="${py(10 ** e)}" stroke="#eee"/>`, text(x0 - 6, py(10 ** e) + 4, `$${decade(e)}`, { size: 11, anchor: 'end' }));
  }
  out.push(text(x0 + w / 2, y0 + h + 34, o.xLabel, { anchor: 'middle' }), text(x0 - 52, y0 + h / 2, '$ per month', { anchor: 'middle', rotate: true }));
  if (o.marker) {
    const mx = px(o.marker.x);
    out.push(`<line x1="${mx}" y1="${y0}" x2="${mx}" y2="${y0 + h}" stroke="#999" stroke-dasharray="2 3"/>`, text(mx + 4, y0 + 14, o.marker.label, { size: 11, fill: '#555' }));
  }
  for (const s of all) {
    // Points below the axis break the line.
    const d = s.values
      .map((v, i) => (v < 10 ** yMin ? '' : `${i === 0 || s.values[i - 1]! < 10 ** yMin ? 'M' : 'L'}${px(xs[i]!).toFixed(1)},${py(v).toFixed(1)}`))
      .filter(Boolean)
      .join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2.2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
  }
  return out;
}

/** The chart (SVG): bill against rate for one topic, and against the number of small topics. */
export function renderFrontierChart(r: FrontierResults, subtitle: string): string {
  const W = 1200;
  const H = 600;
  const parts = [`<rect width="${W}" height="${H}" fill="white"/>`];
  parts.push(text(30, 30, 'Monthly bill, shardlog against Kinesis Data Streams (log-log)', { size: 16, weight: 'bold' }));
  parts.push(text(30, 48, subtitle, { size: 11, fill: '#555' }));
  const byRate = series(r.byRate);
  parts.push(
    ...panel(100, 90, 430, 360, r.byRate.map((p) => p.x), byRate, {
      title: 'One topic',
      xLabel: 'records/s (1 KB)',
      marker: { x: r.assumptions.referenceRate, label: `${r.assumptions.referenceRate}/s` },
    }),
  );
  parts.push(...panel(700, 90, 430, 360, r.byTopics.map((p) => p.x), series(r.byTopics), { title: `Topics of ${r.assumptions.fleetTopicRate} record/s each`, xLabel: 'number of topics' }));
  byRate.forEach((s, i) => {
    const x = 100 + (i % 3) * 360;
    const y = 520 + Math.floor(i / 3) * 24;
    parts.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 28}" y2="${y - 4}" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`, text(x + 36, y, s.label));
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">\n${parts.join('\n')}\n</svg>\n`;
}
