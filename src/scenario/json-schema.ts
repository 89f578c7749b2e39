/**
 * JSON Schema (draft 2020-12) of the scenario file, generated from the zod schema, for editors:
 * point yaml-language-server at it (`# yaml-language-server: $schema=scenario.schema.json`) or
 * set `"$schema"` in a JSON file. It describes the input (what people write); rules that need
 * the whole file (handles defined before use, PCI addresses, the topology path) are only
 * checked by `load.ts`.
 * @module
 */

import { z } from 'zod';
import { ScenarioSchema } from './schema.ts';

/** A fresh copy of the schema as a plain JSON object. */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ScenarioSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    cycles: 'ref',
    reused: 'inline',
  }) as Record<string, unknown>;
}
