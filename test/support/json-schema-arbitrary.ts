/**
 * Values for the JSON Schemas of the API's OpenAPI document: fast-check arbitraries of values a
 * schema accepts, of values it refuses (a valid value, mutated, that the schema then refuses), and
 * a validator built from the schema alone (zod's `fromJSONSchema`), so a property test holds the
 * API to what its document says rather than to the zod schemas the document came from. Covers the
 * subset the document uses: objects, arrays, strings (lengths, a pattern, enum, date-time, binary),
 * numbers, booleans, null, enum, oneOf, anyOf, allOf.
 */
import fc from 'fast-check';
import { z } from 'zod';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
}

/** Generated strings stay short, except for a value of exactly the longest length allowed. */
const LONGEST_GENERATED = 40;

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.format === 'binary') {
    return fc.uint8Array({ maxLength: 64 }).map((bytes) => new Blob([bytes]));
  }
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
      .map((date) => date.toISOString());
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = schema.maxLength ?? Number.POSITIVE_INFINITY;
  const fits = (value: string) =>
    value.length >= minLength &&
    value.length <= maxLength &&
    (schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value));
  const upTo = Math.min(maxLength, minLength + LONGEST_GENERATED);
  const text = fc.oneof(
    fc.string({ minLength, maxLength: upTo }),
    fc.string({ minLength, maxLength: upTo, unit: 'grapheme' }),
    // Any code unit, lone surrogates and control characters included.
    fc.string({ minLength, maxLength: upTo, unit: 'binary' }),
  );
  const patterned =
    schema.pattern === undefined
      ? text
      : fc.oneof(text, fc.stringMatching(new RegExp(schema.pattern, 'u')));
  const longest = Number.isFinite(maxLength) ? [fc.constant('x'.repeat(maxLength))] : [];
  return fc.oneof(patterned, ...longest).filter(fits);
}

export function arbitraryOf(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (schema.oneOf) return fc.oneof(...schema.oneOf.map(arbitraryOf));
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(arbitraryOf));
  if (schema.allOf) {
    return fc
      .tuple(...schema.allOf.map(arbitraryOf))
      .map((parts) => Object.assign({}, ...(parts as object[])));
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length > 1) {
    return fc.oneof(...types.map((type) => arbitraryOf({ ...schema, type })));
  }
  switch (types[0]) {
    case 'object': {
      const properties = schema.properties ?? {};
      const shape = Object.fromEntries(
        Object.entries(properties).map(([key, value]) => [key, arbitraryOf(value)]),
      );
      return fc.record(shape, { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(arbitraryOf(schema.items ?? {}), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, (schema.minItems ?? 0) + 5),
      });
    case 'string':
      return stringArbitrary(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9 });
    case 'number':
      return fc.double({
        min: schema.minimum ?? -1e9,
        max: schema.maximum ?? 1e9,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue();
  }
}

/** A validator of the schema, built from it alone. */
export function validatorOf(schema: JsonSchema): (value: unknown) => boolean {
  const parser = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  return (value) => parser.safeParse(value).success;
}

/** Every object inside `value`, with the place to put something in it. */
function objectsIn(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  if (value === null || typeof value !== 'object' || value instanceof Blob) return [];
  const object = value as Record<string, unknown>;
  return [object, ...Object.values(object).flatMap(objectsIn)];
}

const WRONG_VALUES = [42, -1, true, null, {}, [], 'x'.repeat(70_000), ''];

/**
 * Values the schema refuses: a valid one with a key removed, a value of the wrong type, or an
 * unknown key; or something other than an object. `encode` turns a value into what is sent (a
 * form sends strings), and the schema refuses what the server will see.
 */
export function invalidArbitraryOf(
  schema: JsonSchema,
  encode: (value: unknown) => unknown = (value) => value,
): fc.Arbitrary<unknown> {
  const valid = validatorOf(schema);
  const mutated = fc
    .tuple(arbitraryOf(schema), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 2 }))
    .map(([value, where, which, how]) => {
      const copy = structuredClone(value);
      const objects = objectsIn(copy);
      const target = objects[where % Math.max(1, objects.length)];
      if (!target) return WRONG_VALUES[which % WRONG_VALUES.length];
      const keys = Object.keys(target);
      const key = keys[which % Math.max(1, keys.length)];
      if (how === 0 && key !== undefined) delete target[key];
      else if (how === 1 && key !== undefined)
        target[key] = WRONG_VALUES[which % WRONG_VALUES.length];
      else target[`unknown_${which % 3}`] = 'unexpected';
      return copy;
    });
  const other = fc.constantFrom<unknown>(null, [], 42, 'text', true);
  return fc
    .oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: other, weight: 1 })
    .map(encode)
    .filter((value) => !valid(value));
}
