/**
 * The optimizations behind the figures of docs/performance.md, with the before/after each one's
 * commit measured (the current figures are the page's own; these are the history).
 * @module
 */

export interface Change {
  what: string;
  before: string;
  after: string;
}

export const CHANGES: readonly Change[] = [];
