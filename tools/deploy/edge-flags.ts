import { z } from 'zod';

/** A Worker version id as wrangler prints and accepts it: a lowercase UUID. */
export const VERSION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `--env`: a wrangler environment of wrangler.toml (`[env.<name>]`). */
export const wranglerEnvSchema = z.string().regex(/^[a-z0-9-]+$/, 'must be a wrangler environment name');

// Version ids end up as wrangler arguments and GraphQL variables; anything but a UUID is a typo or an injection.
/** A `--new`/`--old`/`--to` version id; `what` says which version is meant. */
export const versionIdSchema = (what: string) =>
  z.string({ error: `is required (${what}, a version id such as 0f6b2c4e-8a1d-4a57-9a3e-1b2c3d4e5f60)` })
    .regex(VERSION_ID_PATTERN, 'must be a Worker version id (a lowercase UUID such as 0f6b2c4e-8a1d-4a57-9a3e-1b2c3d4e5f60)');

/** `--message`: a deployment or version message, one short printable line. */
export const messageSchema = z.string().min(1).max(100).regex(/^[^\p{Cc}]+$/u, 'must be one line without control characters');

/** `--tag`: a label on an uploaded version, e.g. the canary image tag it was built with. */
export const versionTagSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be up to 64 letters, digits, dots, dashes or underscores');

/** `--env` of an edge delivery CLI: required, since these move the traffic of every tenant. */
export const requiredWranglerEnvSchema = z.string({ error: 'is required (the wrangler environment, e.g. production)' }).pipe(wranglerEnvSchema);
