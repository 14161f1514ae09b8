// The minimum a Worker does to route here: one Upstash lookup and a streamed fetch. No JWT verification (the payload
// is only decoded), no resolver chain, no cookie, no logging: a floor to compare the full edge against.

export interface ProbeEnv {
  PRIMARY_URL: string;
  CANARY_URL: string;
  UPSTASH_URL: string;
  UPSTASH_TOKEN: string;
  COHORT_KEY: string;
}

function platformFromBearer(authorization: string | null): string | null {
  const payload = /^Bearer\s+[^.]+\.([^.]+)\./i.exec(authorization ?? '')?.[1];
  if (payload === undefined) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { platform?: { id?: unknown } };
    return typeof json.platform?.id === 'string' ? json.platform.id : null;
  } catch {
    return null;
  }
}

async function isCanary(env: ProbeEnv, platformId: string): Promise<boolean> {
  const res = await fetch(env.UPSTASH_URL, {
    method: 'POST',
    headers: { authorization: `Bearer ${env.UPSTASH_TOKEN}` },
    body: JSON.stringify(['SISMEMBER', env.COHORT_KEY, platformId]),
  });
  const body = (await res.json()) as { result?: unknown };
  return body.result === 1;
}

export default {
  async fetch(request: Request, env: ProbeEnv): Promise<Response> {
    const platformId = platformFromBearer(request.headers.get('authorization'));
    const canary = platformId !== null && (await isCanary(env, platformId));
    const url = new URL(request.url);
    const upstream = await fetch(`${canary ? env.CANARY_URL : env.PRIMARY_URL}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
    });
    return new Response(upstream.body, upstream);
  },
};
