/**
 * A JSON Schema (2020-12) validator for the subset docs/cli-output.schema.json uses: type, const,
 * enum, required, properties, items, oneOf, allOf and local $ref. A keyword outside the subset throws,
 * so the schema cannot grow a rule that nothing checks. No dependency: the one schema is small.
 */

export type Schema = { readonly [keyword: string]: unknown };

const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', '$defs']);
const KNOWN = new Set([...ANNOTATIONS, 'type', 'const', 'enum', 'required', 'properties', 'items', 'oneOf', 'allOf', '$ref']);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

const typeMatches = (value: unknown, type: string) => typeOf(value) === type || (type === 'number' && typeOf(value) === 'integer');

/** Every way `value` breaks `schema`, each as `path: what`; empty when it conforms. */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN.has(keyword)) throw new Error(`${path}: schema keyword "${keyword}" is not supported by test/support/json-schema.ts`);
  }
  const errors: string[] = [];
  if (typeof schema.$ref === 'string') {
    const match = /^#\/\$defs\/([\w-]+)$/.exec(schema.$ref);
    const target = match ? (root.$defs as Record<string, Schema> | undefined)?.[match[1]!] : undefined;
    if (!target) throw new Error(`${path}: $ref ${schema.$ref} does not resolve`);
    errors.push(...validate(value, target, root, path));
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(value, t))) return [...errors, `${path}: is ${typeOf(value)}, not ${types.join(' or ')}`];
  }
  if ('const' in schema && value !== schema.const) errors.push(`${path}: is ${JSON.stringify(value)}, not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`);
  const object = typeOf(value) === 'object' ? (value as Record<string, unknown>) : undefined;
  if (object && Array.isArray(schema.required)) {
    for (const key of schema.required as string[]) if (!(key in object)) errors.push(`${path}: ${key} is missing`);
  }
  if (object && schema.properties) {
    for (const [key, sub] of Object.entries(schema.properties as Record<string, Schema>)) {
      if (key in object) errors.push(...validate(object[key], sub, root, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && schema.items) {
    for (const [i, item] of value.entries()) errors.push(...validate(item, schema.items as Schema, root, `${path}[${i}]`));
  }
  if (Array.isArray(schema.allOf)) for (const sub of schema.allOf as Schema[]) errors.push(...validate(value, sub, root, path));
  if (Array.isArray(schema.oneOf)) {
    const results = (schema.oneOf as Schema[]).map((sub) => validate(value, sub, root, path));
    const passing = results.filter((r) => r.length === 0).length;
    if (passing !== 1) {
      errors.push(`${path}: matches ${passing} of oneOf's ${results.length} schemas`);
      // The closest miss says most: the branch with the fewest errors.
      if (passing === 0) errors.push(...results.reduce((a, b) => (b.length < a.length ? b : a)));
    }
  }
  return errors;
}
