import type { Projection } from '../projections/projection.js';

/** Every read model the API serves; adding one here rebuilds the read-model database once. */
export const projections: readonly Projection[] = [];
