/**
 * JSON Schema (draft 2020-12) of the topology file, generated from the zod schema, for editors:
 * point yaml-language-server at it (`# yaml-language-server: $schema=topology.schema.json`) or
 * set `"$schema"` in a JSON file. It describes the input (what people write); rules that need
 * the whole tree (bus numbers, the kernel's enumeration rules) are only checked by `load.ts`.
 * @module
 */

import { z } from 'zod';
import { TopologyFileSchema } from './schema.ts';

/** A fresh copy of the schema as a plain JSON object. */
export function topologyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(TopologyFileSchema, {
    io: 'input',
    target: 'draft-2020-12',
    unrepresentable: 'any',
    cycles: 'ref',
    reused: 'inline',
  }) as Record<string, unknown>;
}
