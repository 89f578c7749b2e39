/**
 * Kernel eras the model distinguishes (kernel-semantics.md §0, §8): the Aug-2013 reset work as in
 * Linux 3.12/3.13, Debian 12's 6.1, and 6.6+ (reference tree 6.18 plus current mainline).
 * @module
 */

export const ERAS = ['2013', '6.1', '6.6+'] as const;
export type Era = (typeof ERAS)[number];

export function isEra(s: string): s is Era {
  return (ERAS as readonly string[]).includes(s);
}
