// `scheme://user:password@` up to the last `@` of the token: passwords may themselves contain `@`, `#` or `:`.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s'"<>]*@/gi;

/**
 * Removes credentials from text bound for a log line or a response: the user-info part of any URL, and every given
 * secret (also in its percent-encoded and decoded forms, as drivers echo either).
 */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_CREDENTIALS, '$1***@');
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), safeDecode(secret)])) out = out.split(form).join('***');
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The password of a connection URL (decoded), or null; so it can be redacted wherever a driver repeats it. */
export function urlPassword(connectionString: string): string | null {
  try {
    const password = new URL(connectionString).password;
    return password === '' ? null : safeDecode(password);
  } catch {
    return null;
  }
}

/**
 * A short, log-safe description of a store error. Upstash errors embed the whole command ("command was: …"), which
 * for a cohort install is megabytes and for a lookup includes hashed API keys; drivers may echo connection strings.
 */
export function describeStoreError(error: unknown, secrets: readonly string[] = []): string {
  if (!(error instanceof Error)) return redactSecrets(String(error).slice(0, 200), secrets);
  const message = error.message.split(/,? command was:/i)[0] ?? '';
  // A wrapper (e.g. StoreError) says which store; its cause says what went wrong.
  const cause = error.cause instanceof Error ? ` (${error.cause.name}: ${(error.cause.message.split(/,? command was:/i)[0] ?? '').slice(0, 200)})` : '';
  return redactSecrets(`${error.name}: ${message.slice(0, 200)}${cause}`, secrets).slice(0, 300);
}
