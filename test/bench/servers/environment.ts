/** What the harness passes every server: its port and, for some, where things are. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

export function portFromEnv(): number {
  return Number(requiredEnv('PORT'));
}
