import type { Override } from '../../core/auth/override-token.js';
import { Layout } from './views.js';

const OVERRIDE_PATH = '/__canary/override';

function when(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function Scope(props: { override: Override }) {
  return props.override.platformId === null ? <>requests of <strong>any platform</strong></> : <>requests of platform <code>{props.override.platformId}</code></>;
}

/** What a token does, and (for a one-platform token) the button that puts it in this browser. */
export function OverrideConfirm(props: { token: string; override: Override; confirm: string; revoked: boolean }) {
  const { override } = props;
  const scoped = override.platformId !== null;
  return (
    <Layout title="canary-edge · tester override">
      <main class="narrow">
        <h1>Tester override</h1>
        <dl class="card facts" id="override-facts">
          <dt>Sends</dt>
          <dd>
            <Scope override={override} /> to the <strong>{override.target}</strong>
          </dd>
          <dt>Until</dt>
          <dd>{when(override.expiresAt)}</dd>
          <dt>In a browser</dt>
          <dd>{scoped ? 'its page loads, static files and live connection (Socket.IO), never its API calls' : 'not at all: a token for any platform works only as the x-canary-override header'}</dd>
        </dl>
        {props.revoked ? (
          <p class="flash error" role="alert">
            This token has been revoked by an operator: it routes nothing. Ask for a new one.
          </p>
        ) : scoped ? (
          <form method="post" action={OVERRIDE_PATH} class="card">
            <input type="hidden" name="token" value={props.token} />
            <input type="hidden" name="confirm" value={props.confirm} />
            <p>Nothing has changed yet. Apply it to this browser only if you asked for it.</p>
            <button type="submit">Apply to this browser</button>
          </form>
        ) : (
          <p class="card muted">
            Send it with your requests instead: <code>curl -H "x-canary-override: …" …</code> (the token is in the link you were given).
          </p>
        )}
        <p class="muted">
          <a href={OVERRIDE_PATH}>See or clear this browser's override</a>
        </p>
      </main>
    </Layout>
  );
}

/** The override this browser carries (if any) and the button that clears it. */
export function OverrideCurrent(props: { current: Override | null; state: 'none' | 'valid' | 'invalid'; confirm: string; flash: string | null }) {
  return (
    <Layout title="canary-edge · this browser's override">
      <main class="narrow">
        <h1>This browser's override</h1>
        {props.flash !== null && (
          <p class="flash ok" role="status">
            {props.flash}
          </p>
        )}
        <p class="card" id="current-override">
          {props.current !== null ? (
            <>
              This browser sends <Scope override={props.current} /> to the <strong>{props.current.target}</strong> until {when(props.current.expiresAt)}.
            </>
          ) : props.state === 'invalid' ? (
            'This browser carries an override that is no longer valid (expired or not ours): it routes nothing.'
          ) : (
            'This browser carries no override: it is routed as usual.'
          )}
        </p>
        {props.state !== 'none' && (
          <form method="post" action={`${OVERRIDE_PATH}/clear`} class="card">
            <input type="hidden" name="confirm" value={props.confirm} />
            <button type="submit">Clear it</button>
          </form>
        )}
      </main>
    </Layout>
  );
}

/** A link that cannot be used. */
export function OverrideRefused(props: { message: string }) {
  return (
    <Layout title="canary-edge · tester override">
      <main class="narrow">
        <h1>Tester override</h1>
        <p class="flash error" role="alert">
          {props.message}
        </p>
      </main>
    </Layout>
  );
}
