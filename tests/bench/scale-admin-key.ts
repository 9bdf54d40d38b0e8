/** The root admin's key in the scale suite's logs: the generator bootstraps it, the suite signs in with it. */
export const SCALE_ADMIN_KEY = 'bench-scale-admin-key-0123456789abcdef';
