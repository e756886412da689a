import { randomBytes } from 'node:crypto';

/** A request body ready to send, with the Content-Type that describes it. */
export interface PreparedBody {
  readonly contentType: string;
  readonly body: Buffer;
}

/** One file part, byte for byte as a browser would send it. */
export function multipartWithFile(field: string, filename: string, fileType: string, file: Buffer): PreparedBody {
  const boundary = `----bench${randomBytes(12).toString('hex')}`;
  const head = [
    `--${boundary}`,
    `Content-Disposition: form-data; name="${field}"; filename="${filename}"`,
    `Content-Type: ${fileType}`,
    '',
    '',
  ].join('\r\n');
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: Buffer.concat([Buffer.from(head), file, Buffer.from(`\r\n--${boundary}--\r\n`)]),
  };
}
