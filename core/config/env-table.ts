import type { $ZodType, output } from 'zod/v4/core';

/** One environment variable (or Worker binding): its config key, schema (with its default) and documentation. */
export interface EnvVar<Key extends string = string, Schema extends $ZodType = $ZodType> {
  key: Key;
  schema: Schema;
  doc: string;
  /** Worker binding kind, for the edge's table; origin variables leave it out. */
  kind?: 'var' | 'secret' | 'rate limiter';
  /** How the README shows a default computed at start (e.g. from the host name), instead of this machine's value. */
  defaultDoc?: string;
}

/** A table of variables by name: the one place a variable is declared (schema, type, default, README row). */
export type EnvTable = Record<string, EnvVar>;

/** The parsed configuration of a table: each variable's `key` with its schema's output type. */
export type ConfigOf<T extends EnvTable> = { [Name in keyof T as T[Name]['key']]: output<T[Name]['schema']> };

/** The zod shape of a table (variable name -> schema), for the host's `z.object`. */
export type ShapeOf<T extends EnvTable> = { [Name in keyof T]: T[Name]['schema'] };

/** The zod shape of a table. */
export function shapeOf<T extends EnvTable>(table: T): ShapeOf<T> {
  return Object.fromEntries(Object.entries(table).map(([name, v]) => [name, v.schema])) as ShapeOf<T>;
}

/** Renames parsed variables (by name) to their config keys. */
export function toConfig<T extends EnvTable>(table: T, parsed: Record<string, unknown>): ConfigOf<T> {
  return Object.fromEntries(Object.entries(table).map(([name, v]) => [v.key, parsed[name]])) as ConfigOf<T>;
}
