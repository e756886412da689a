import { Router } from 'express';
import type { NamedApiKey } from '../access/api-keys';
import { imageTypes, type ImageType } from '../media/image-inspection';
import type { ClientSettings } from './client-settings-contract';
import { CACHE_POLICY, revalidatable, sendRevalidatable } from '../http/cache-policy';

export interface ClientSettingsConfig {
  readonly apiKeys: readonly NamedApiKey[];
  readonly maxFileSize: number;
  readonly allowedTypes: readonly ImageType[];
  readonly variantSizes: readonly number[];
  readonly requireSignedUrls: boolean;
}

export function clientSettingsOf(config: ClientSettingsConfig): ClientSettings {
  return Object.freeze({
    apiKeyRequired: config.apiKeys.length > 0,
    maxFileSize: config.maxFileSize,
    allowedTypes: Object.freeze(config.allowedTypes.map((type) => imageTypes[type].contentType)),
    variantSizes: config.variantSizes,
    signedUrlsRequired: config.requireSignedUrls,
  });
}

/**
 * `GET /client-settings`: the web page asks it whether to show the API key field and which
 * variant widths its srcset may list; any other client may ask it too.
 */
export function createClientSettingsRouter(config: ClientSettingsConfig): Router {
  const settings = revalidatable(JSON.stringify(clientSettingsOf(config)));
  const router = Router();
  router.get('/client-settings', (_req, res) => {
    sendRevalidatable(res.type('json'), settings, CACHE_POLICY.revalidate);
  });
  return router;
}
