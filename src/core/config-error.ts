/** A setting that cannot be used as given: the process reports it in a few words and exits. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
