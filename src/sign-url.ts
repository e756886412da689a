import dotenv from 'dotenv';
import { loadConfig } from './config/config';
import { ConfigError } from './core/config-error';
import { AppError } from './core/app-error';
import { systemClock } from './core/clock';
import { parseImageId } from './core/image-id';
import { createUrlSigner } from './delivery/read-url-signature';

const USAGE = 'usage: npm run sign -- <image id> [query such as "w=300&format=webp"] [seconds valid]';

/** `npm run sign -- <id> [params] [seconds]`: prints a signed read URL path, with SIGNING_KEY from the environment or .env. */
function main(args: readonly string[]): string {
  const [id, params = '', seconds] = args;
  if (id === undefined || (seconds !== undefined && !/^\d+$/.test(seconds))) throw new ConfigError(USAGE);
  const signUrl = createUrlSigner({ ...loadConfig(process.env), clock: systemClock });
  return signUrl(parseImageId(id), params, seconds === undefined ? undefined : Number(seconds)).url;
}

dotenv.config({ quiet: true });
try {
  console.log(main(process.argv.slice(2)));
} catch (error) {
  console.error(error instanceof ConfigError || error instanceof AppError ? error.message : error);
  process.exit(1);
}
