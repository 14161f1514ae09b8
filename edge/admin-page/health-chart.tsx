import type { MinuteCounts } from '../../core/health/health-window.js';

const WIDTH = 520;
const HEIGHT = 140;
const PAD = { left: 40, right: 8, top: 10, bottom: 22 };
/** Colours as SVG presentation attributes (the page's CSP allows no inline style). */
const REQUESTS_FILL = '#9db4cf';
const ERRORS_FILL = '#b42318';

function hhmm(minute: number): string {
  return new Date(minute * 60_000).toISOString().slice(11, 16);
}

/**
 * A small bar chart of requests (and, over them, errors) per minute for one origin: plain server-rendered SVG, no
 * script and no chart library, each bar titled with its numbers for a hover or a screen reader.
 */
export function HealthChart(props: { origin: 'primary' | 'canary'; minutes: readonly MinuteCounts[] }) {
  const { origin, minutes } = props;
  const max = Math.max(0, ...minutes.map((m) => m[origin].requests));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, minutes.length);
  const barW = Math.max(1, slot * 0.8);
  const y = (n: number): number => PAD.top + plotH - (max === 0 ? 0 : (n / max) * plotH);
  const first = minutes[0];
  const last = minutes.at(-1);
  const totals = minutes.reduce((t, m) => ({ requests: t.requests + m[origin].requests, errors: t.errors + m[origin].errors }), { requests: 0, errors: 0 });
  return (
    <figure class="chart">
      <figcaption>
        <strong>{origin}</strong> · {totals.requests} requests · {totals.errors} errors
      </figcaption>
      <svg
        id={`chart-${origin}`}
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-label={`${origin}: requests and errors per minute, ${totals.requests} requests and ${totals.errors} errors in the window`}
      >
        <line x1={PAD.left} y1={PAD.top + plotH} x2={WIDTH - PAD.right} y2={PAD.top + plotH} stroke="#d9dee4" />
        <text x={PAD.left - 6} y={PAD.top + 8} text-anchor="end" font-size="11" fill="#5b6470">
          {max}
        </text>
        <text x={PAD.left - 6} y={PAD.top + plotH} text-anchor="end" font-size="11" fill="#5b6470">
          0
        </text>
        {minutes.map((m, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          const { requests, errors } = m[origin];
          return (
            <g>
              <title>{`${hhmm(m.minute)} UTC: ${requests} requests, ${errors} errors`}</title>
              <rect x={x} y={y(requests)} width={barW} height={PAD.top + plotH - y(requests)} fill={REQUESTS_FILL} />
              {errors > 0 && <rect class="errors" x={x} y={y(errors)} width={barW} height={PAD.top + plotH - y(errors)} fill={ERRORS_FILL} />}
            </g>
          );
        })}
        {first !== undefined && (
          <text x={PAD.left} y={HEIGHT - 6} font-size="11" fill="#5b6470">
            {hhmm(first.minute)}
          </text>
        )}
        {last !== undefined && (
          <text x={WIDTH - PAD.right} y={HEIGHT - 6} text-anchor="end" font-size="11" fill="#5b6470">
            {`${hhmm(last.minute)} UTC (now)`}
          </text>
        )}
        {max === 0 && (
          <text x={PAD.left + plotW / 2} y={PAD.top + plotH / 2} text-anchor="middle" font-size="13" fill="#5b6470">
            no traffic in the window
          </text>
        )}
      </svg>
    </figure>
  );
}
