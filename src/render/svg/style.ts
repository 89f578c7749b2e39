/**
 * Colours and type of the picture, in one place so the legend and the drawing agree.
 * Group colours come from the group number alone (golden-angle hues), so a group keeps its colour
 * from one run to the next and neighbours differ.
 * @module
 */

import type { Domain } from './boxes.ts';

export const FONT = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";

export function groupColour(id: number): { fill: string; stroke: string } {
  const h = ((id * 137.508) % 360).toFixed(1);
  return { fill: `hsl(${h}, 70%, 92%)`, stroke: `hsl(${h}, 45%, 38%)` };
}

export type DomainStyle = 'slot' | 'bus' | 'hazard';

export const DOMAIN_COLOUR: Record<DomainStyle, string> = {
  slot: '#2e7d32',
  bus: '#1565c0',
  hazard: '#c62828',
};

export const domainStyle = (d: Domain): DomainStyle => (d.hotplugHazard ? 'hazard' : d.kind);

export const SEVERITY_COLOUR = { blocker: '#c62828', warning: '#b26a00' } as const;

export const INK = '#1f2328';
export const MUTED = '#6e7781';
export const VFIO_INK = '#1a7f37';
