import dotenv from 'dotenv';
import { loadConfig } from '../src/config/config';
import { buildFerretDb, builtFerretDb, goIsInstalled } from '../src/database/ferretdb';
import { createLogger } from '../src/core/logger';

/**
 * npm run build:ferretdb, which npm install runs too (tools/prepare.sh): builds our FerretDB
 * into TOOLS_DIR (the project's .tools/ by default) when Go is there to build it. Without Go it
 * says so in one line and succeeds: npm start then uses MONGODB_URI or a mongod instead.
 */
async function main(): Promise<void> {
  dotenv.config({ quiet: true });
  const config = loadConfig(process.env);
  const built = builtFerretDb(config.toolsDir);
  if (built) {
    console.log(`FerretDB is built: ${built}`);
  } else if (goIsInstalled()) {
    console.log(`FerretDB built: ${await buildFerretDb(createLogger(config), config.toolsDir)}`);
  } else {
    console.log('FerretDB not built: Go is not installed, so npm start will need MONGODB_URI or a mongod (README: The database)');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
