import type { Readable } from 'node:stream';
import { DataStore, Metadata, Upload } from '@tus/utils';
import { AppError } from '../../core/app-error';
import type { Caller } from '../../core/caller';
import type { ResumableUploads } from './resumable-uploads';

/** What the upload is called once it is an image; Uppy sends `name`, tus-js-client users usually `filename`. */
function filenameOf(metadata: Upload['metadata']): string {
  return metadata?.filename ?? metadata?.name ?? 'upload';
}

/**
 * @tus/server's store for our bucket: the protocol is @tus/server's; the rules and the state in
 * MongoDB are ResumableUploads'. Every method may be called on any instance.
 */
export class GridFsDataStore extends DataStore {
  /** `callerNow` tells who sent the request being served: @tus/server calls a store without it. */
  constructor(
    private readonly uploads: ResumableUploads,
    private readonly callerNow: () => Caller,
  ) {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'termination', 'expiration'];
  }

  override async create(upload: Upload): Promise<Upload> {
    const createdAt = await this.uploads.create({
      id: upload.id,
      // Upload-Defer-Length is not offered, so every upload declares its length.
      length: upload.size ?? 0,
      filename: filenameOf(upload.metadata),
      metadata: upload.metadata ? Metadata.stringify(upload.metadata) : null,
      owner: this.callerNow().owner,
    });
    // @tus/server tells the client when the upload expires from this date.
    upload.creation_date = createdAt.toISOString();
    return upload;
  }

  override write(stream: Readable, id: string, offset: number): Promise<number> {
    return this.uploads.receive(id, offset, stream);
  }

  override async getUpload(id: string): Promise<Upload> {
    const state = await this.uploads.find(id);
    // @tus/server checks the expiry too, by the system's clock; this one is by the uploads' clock.
    if (state.expired) throw new AppError('upload-expired', 'The upload passed RESUMABLE_EXPIRY unfinished; start a new one.');
    return new Upload({
      id,
      size: state.length,
      offset: state.offset,
      ...(state.metadata === null ? {} : { metadata: Metadata.parse(state.metadata) }),
      creation_date: state.createdAt.toISOString(),
    });
  }

  override remove(id: string): Promise<void> {
    return this.uploads.terminate(id);
  }

  override deleteExpired(): Promise<number> {
    return this.uploads.removeExpired();
  }

  override getExpiration(): number {
    return this.uploads.expiryMs;
  }
}
