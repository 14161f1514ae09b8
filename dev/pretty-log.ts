const QUIET_FIELDS = new Set(['level', 'time', 'msg', 'role', 'version', 'instance']);

function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Renders one JSON log line (origin or edge) as a short human line; other text is returned as is. */
export function prettyLogLine(raw: string): string {
  let entry: unknown;
  try {
    entry = JSON.parse(raw);
  } catch {
    return raw;
  }
  if (typeof entry !== 'object' || entry === null) return raw;
  const e = entry as Record<string, unknown>;
  if (e.msg === 'request') {
    const via = [e.source, e.cache].filter((v) => v !== undefined && v !== 'none').join(', ');
    const tail = [via && `(${via})`, e.fellBack === true ? '[fell back]' : '', e.error ? `! ${fieldText(e.error)}` : '']
      .filter(Boolean)
      .join(' ');
    return `${fieldText(e.method)} ${fieldText(e.path)} ${fieldText(e.status)} -> ${fieldText(e.origin ?? '?')} ${tail} ${fieldText(e.totalMs)}ms`.replace(/\s+/g, ' ');
  }
  const level = e.level === undefined || e.level === 'info' ? '' : `${String(e.level).toUpperCase()} `;
  const fields = Object.entries(e)
    .filter(([k]) => !QUIET_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`)
    .join(' ');
  return `${level}${fieldText(e.msg ?? '')}${fields ? ` ${fields}` : ''}`;
}
