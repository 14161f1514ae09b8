/**
 * Postgres text values as JSON, for requests without `Neon-Raw-Text-Output: true` (the driver always sends it; curl
 * users may not). Mirrors Neon's proxy: bool, int2/int4 and finite floats become JSON scalars, json/jsonb are
 * embedded, arrays are parsed recursively, everything else (int8, numeric, dates, ...) stays a string.
 */

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;

/**
 * Built-in array type -> element type. Neon reads this from the type itself; arrays of user types stay strings here,
 * and so do int2vector/oidvector, whose text form (`1 2`) is not an array literal.
 */
const ARRAY_ELEMENT: ReadonlyMap<number, number> = new Map([
  [1000, BOOL], [1001, 17], [1002, 18], [1003, 19], [1005, INT2], [1006, 22], [1007, INT4],
  [1008, 24], [1009, 25], [1028, 26], [1013, 30], [1010, 27], [1011, 28], [1012, 29], [199, JSON_OID],
  [143, 142], [1016, 20], [1021, FLOAT4], [1022, FLOAT8], [1017, 600], [1018, 601], [1019, 602], [1020, 603],
  [1027, 604], [629, 628], [719, 718], [791, 790], [1040, 829], [775, 774], [1041, 869], [651, 650],
  [1034, 1033], [1014, 1042], [1015, 1043], [1182, 1082], [1183, 1083], [1115, 1114], [1185, 1184],
  [1187, 1186], [1270, 1266], [1561, 1560], [1563, 1562], [1231, 1700], [2201, 1790], [2951, 2950],
  [3807, JSONB], [4073, 4072], [3643, 3614], [3645, 3615], [3905, 3904], [3907, 3906], [3909, 3908],
  [3911, 3910], [3913, 3912], [3927, 3926], [2210, 2205], [2211, 2206], [1263, 2275],
]);

/** Postgres sent a value that does not parse as its type (Neon answers 500 "could not parse postgres response"). */
export class PgTextConversionError extends Error {
  override readonly name = 'PgTextConversionError';
}

function scalar(text: string, typeId: number): unknown {
  switch (typeId) {
    case BOOL:
      return text === 't';
    case INT2:
    case INT4:
      if (!/^[+-]?\d+$/.test(text)) throw new PgTextConversionError(`parse int error: ${text}`);
      return Number.parseInt(text, 10);
    case FLOAT4:
    case FLOAT8: {
      const value = Number(text);
      if (Number.isNaN(value) && text !== 'NaN') throw new PgTextConversionError(`parse float error: ${text}`);
      // JSON has no NaN/Infinity; Neon passes them as strings rather than lose them.
      return Number.isFinite(value) ? value : text;
    }
    case JSON_OID:
    case JSONB:
      try {
        return JSON.parse(text);
      } catch {
        throw new PgTextConversionError('parse json error');
      }
    default:
      return text;
  }
}

/** A recursive-descent reader of Postgres' array text format (`{1,"a b",NULL,{2}}`). */
class ArrayReader {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly element: number,
  ) {}

  read(): unknown[] {
    let start = 0;
    // Bounds decoration (`[1:2]={...}`) has no JSON form; Neon drops it, so do we.
    if (this.text.startsWith('[')) {
      const eq = this.text.indexOf('=');
      if (eq < 0) throw new PgTextConversionError('unbalanced array');
      start = eq + 1;
    }
    this.pos = start;
    this.skipSpace();
    const values = this.list();
    if (this.pos !== this.text.length) throw new PgTextConversionError('unbalanced array');
    return values;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text.charAt(this.pos))) this.pos += 1;
  }

  private list(): unknown[] {
    if (this.text.charAt(this.pos) !== '{') throw new PgTextConversionError('unbalanced array');
    this.pos += 1;
    const values: unknown[] = [];
    this.skipSpace();
    if (this.text.charAt(this.pos) === '}') {
      this.pos += 1;
      this.skipSpace();
      return values;
    }
    for (;;) {
      values.push(this.item());
      if (this.text.charAt(this.pos) !== ',') break;
      this.pos += 1;
    }
    if (this.text.charAt(this.pos) !== '}') throw new PgTextConversionError('unbalanced array');
    this.pos += 1;
    this.skipSpace();
    return values;
  }

  private item(): unknown {
    this.skipSpace();
    const first = this.text.charAt(this.pos);
    if (first === '{') return this.list();
    if (first === '"') return scalar(this.quoted(), this.element);
    let end = this.pos;
    while (end < this.text.length && this.text.charAt(end) !== ',' && this.text.charAt(end) !== '}') end += 1;
    if (end >= this.text.length) throw new PgTextConversionError('unbalanced array');
    const raw = this.text.slice(this.pos, end).trimEnd();
    this.pos = end;
    return raw === 'NULL' ? null : scalar(raw, this.element);
  }

  private quoted(): string {
    this.pos += 1;
    let out = '';
    for (;;) {
      if (this.pos >= this.text.length) throw new PgTextConversionError('unbalanced quoted string');
      const char = this.text.charAt(this.pos);
      this.pos += 1;
      if (char === '"') break;
      if (char === '\\') {
        if (this.pos >= this.text.length) throw new PgTextConversionError('unbalanced quoted string');
        out += this.text.charAt(this.pos);
        this.pos += 1;
      } else {
        out += char;
      }
    }
    this.skipSpace();
    return out;
  }
}

/** Converts one non-null Postgres text value of type `typeId` to the JSON value Neon returns without raw output. */
export function pgTextToJson(text: string, typeId: number): unknown {
  const element = ARRAY_ELEMENT.get(typeId);
  return element === undefined ? scalar(text, typeId) : new ArrayReader(text, element).read();
}
