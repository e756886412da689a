/**
 * The time now, in milliseconds since the Unix epoch. Everything whose answer depends on the
 * time (an expiry, a grace, a time to live) reads it from the clock it is given, so that a test
 * moves time forward instead of waiting for it to pass.
 */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
