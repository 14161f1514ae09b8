/** The page's whole stylesheet, served by the edge (no CDN, no build step, no inline styles: CSP forbids them). */
export const ADMIN_CSS = `
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d9dee4; --bg: #f5f7f9; --ok: #11734b; --bad: #b42318; --warn: #9a6700; --canary: #8a4b00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 1100px; margin: 0 auto; padding: 16px 20px 40px; }
main.narrow { max-width: 420px; padding-top: 12vh; }
h1 { font-size: 28px; margin: 0 0 8px; }
h2 { font-size: 16px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 16px 0 8px; }
.muted { color: var(--muted); }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 16px 0; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.columns .card { margin: 0; }
@media (max-width: 800px) { .columns { grid-template-columns: 1fr; } .columns .card { margin: 16px 0 0; } }
.state { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 16px; padding: 20px max(20px, calc((100% - 1060px) / 2)); color: #fff; }
.state.live { background: var(--ok); }
.state.paused { background: var(--bad); }
.state-label { margin: 0; font-size: 26px; font-weight: 800; letter-spacing: 0.02em; }
.state-detail { margin: 4px 0 0; font-size: 15px; opacity: 0.95; }
.state-action { display: flex; gap: 8px; align-items: center; }
.state-action input { width: 260px; }
input, button { font: inherit; }
input[type=text], input:not([type]), input[type=password], input[type=number] { padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; min-width: 0; }
input[type=number] { width: 110px; }
button { padding: 8px 14px; border: 0; border-radius: 6px; background: #24292f; color: #fff; font-weight: 600; cursor: pointer; }
button.danger { background: #fff; color: var(--bad); font-size: 17px; padding: 12px 20px; }
button.resume { background: #fff; color: var(--ok); font-size: 17px; padding: 12px 20px; }
button.link { background: none; color: #0b57d0; padding: 0; font-weight: 400; }
label { display: block; font-weight: 600; margin-bottom: 6px; }
.narrow form input { width: 100%; margin-bottom: 12px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.row input:not([type=number]):not([type=hidden]) { flex: 1 1 200px; }
.stack { display: flex; flex-direction: column; gap: 10px; }
fieldset.choices { border: 0; margin: 0; padding: 0; display: flex; gap: 16px; flex-wrap: wrap; }
fieldset.choices legend { font-weight: 600; margin-bottom: 4px; }
fieldset.choices label { font-weight: 400; margin: 0; }
.flash { padding: 10px 14px; border-radius: 6px; font-weight: 600; }
.flash.ok { background: #e6f4ea; color: var(--ok); }
.flash.error { background: #fdecea; color: var(--bad); }
.answer { font-size: 17px; margin: 12px 0 0; }
.to-canary { color: var(--canary); }
.to-primary { color: var(--ok); }
.big { font-size: 32px; font-weight: 800; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
.platforms { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow: auto; }
.platforms li { display: flex; justify-content: space-between; gap: 8px; padding: 4px 0; border-bottom: 1px solid var(--line); }
form.inline { display: inline; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 13px; color: var(--muted); }
.nowrap { white-space: nowrap; }
.action { font-weight: 700; }
.action.pause { color: var(--bad); }
.action.resume { color: var(--ok); }
.action.pin { color: var(--canary); }
.sign-out { display: flex; justify-content: flex-end; gap: 20px; }
.card button.danger { border: 1px solid var(--bad); font-size: 15px; padding: 8px 14px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 14px; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
@media (max-width: 800px) { .charts { grid-template-columns: 1fr; } }
.chart { margin: 0; }
.chart figcaption { font-size: 13px; color: var(--muted); margin-bottom: 4px; }
.chart figcaption strong { color: var(--ink); }
.legend { font-size: 13px; display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
.swatch.requests { background: #9db4cf; }
.swatch.errors { background: #b42318; margin-left: 10px; }
.guard { font-size: 15px; }
.guard.off, .verdict-thin-data { color: var(--warn); }
.verdict-healthy, .verdict-pass { color: var(--ok); }
.verdict-unhealthy, .verdict-paused, .verdict-fail, .verdict-error { color: var(--bad); }
.verdict-inconclusive { color: var(--warn); }
#judge-metrics td { font-size: 13px; }
.timeline { list-style: none; padding: 0; margin: 8px 0; display: flex; flex-wrap: wrap; gap: 8px; }
.timeline li { border: 1px solid var(--line, #d0d5dd); border-radius: 6px; padding: 6px 10px; font-size: 14px; }
.timeline li.done { background: #ecfdf3; border-color: #abefc6; }
.timeline li.current { background: #eff8ff; border-color: #84caff; }
.timeline li.held { background: #fffaeb; border-color: #fedf89; }
.timeline li.failed { background: #fef3f2; border-color: #fda29b; }
.timeline li.next { color: var(--muted); }
.step-status { font-size: 12px; }
.plan-state.running, .plan-state.completed { color: var(--ok); }
.plan-state.held { color: var(--warn); }
.plan-state.aborted { color: var(--bad); }
.verdict.pass { color: var(--ok); }
.verdict.fail, .verdict.error, .verdict.paused { color: var(--bad); }
.verdict.inconclusive { color: var(--warn); }
.plan-actions { gap: 8px; }
`;
