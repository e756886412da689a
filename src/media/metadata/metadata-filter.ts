import type { ImageType } from '../image-inspection';
import { jpegRules } from './jpeg-rules';
import { pngRules } from './png-rules';
import { webpRules } from './webp-rules';
import { createSegmentFilter, keepEverything, type FormatRules, type MetadataFilter } from './segment-filter';

export { keepEverything, type MetadataFilter } from './segment-filter';

const rulesByType: Partial<Record<ImageType, () => FormatRules>> = {
  jpeg: jpegRules,
  png: pngRules,
  webp: webpRules,
};

/** Whether images of this type carry metadata the filter removes; others are stored as they come. */
export function hasMetadataRules(type: ImageType): boolean {
  return rulesByType[type] !== undefined;
}

/** A filter that removes the metadata of an image of this type; other types pass as they are. */
export function createMetadataFilter(type: ImageType): MetadataFilter {
  const rules = rulesByType[type];
  return rules ? createSegmentFilter(rules()) : keepEverything;
}
