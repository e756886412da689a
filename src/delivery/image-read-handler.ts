import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LRUCache } from 'lru-cache';
import { AppError } from '../core/app-error';
import type { Clock } from '../core/clock';
import type { ClientIdentifier } from '../access/client-identity';
import { corsReadHeaders, type CorsOrigins } from '../access/cors';
import { parseTransformationQuery, type TransformationRules } from '../variants/transformation';
import { resolverOf, type TransformationResolver } from '../variants/transformation-resolution';
import type { Requester, VariantService } from '../variants/variant-service';
import { cacheUntil, representationOf } from './delivery-headers';
import type { ByteRange } from '../storage/gridfs/chunk-stream';
import type { ImageRecord } from '../storage/image-repository';
import type { ImageReader } from '../storage/image-reader';
import { parseImageId } from '../core/image-id';
import { planRead } from './read-plan';
import { checkSignature, expiryOf } from './read-url-signature';

type Headers = Readonly<Record<string, string>>;

/**
 * Answers GET and HEAD of one image; `id` as it appears, decoded, in the path. Every answer
 * carries `headers` too: the lean path's request id, which Express would have set already.
 * An answer from memory (a 304, above all) is sent before it returns, and then nothing is
 * returned to wait on; otherwise the promise settles when the answer is out, and a failure
 * may throw or reject.
 */
export type ImageReadHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  headers?: Headers,
) => Promise<void> | undefined;

export interface ImageReadOptions {
  readonly corsOrigins: CorsOrigins;
  /** Widths and heights a URL may ask for without a signature. */
  readonly variantSizes: readonly number[];
  readonly maxVariantPixels: number;
  readonly presets: TransformationRules['presets'];
  /** Unset: no URL is signed, and `sig` is an ignored parameter like any other. */
  readonly signingKey: string | undefined;
  readonly requireSignedUrls: boolean;
  /** What a signed URL's expiry, and how long caches may keep its answer, are measured by. */
  readonly clock: Clock;
  /** Whose share of the transformations a read that waits on one counts against. */
  readonly clientOf: ClientIdentifier;
}

export interface ImageReaders {
  readonly originals: ImageReader;
  readonly variants: VariantService;
  /** Reads stored variants, through the same cache as originals. */
  readonly variantContent: ImageReader;
}

function isPrematureClose(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/**
 * The reader hands over a stream once its first bytes are there, so that a file that cannot
 * be read at all still gets a proper error answer; after the status line, a failure can only
 * cut the connection. A client that leaves early is not an error.
 */
async function sendStream(res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: Readable) {
  res.writeHead(status, headers);
  try {
    await pipeline(body, res);
  } catch (error) {
    if (!isPrematureClose(error)) throw error;
  }
}

/**
 * Merged with Object.assign rather than spread: V8 copies an object that was itself built by
 * spreading through a slow path, about a microsecond a merge, a tenth of what a 304 costs.
 */
function merged(...parts: readonly OutgoingHttpHeaders[]): OutgoingHttpHeaders {
  const all: OutgoingHttpHeaders = {};
  for (const part of parts) Object.assign(all, part);
  return all;
}

const NO_HEADERS: Headers = {};

/** Error answers carry the common headers too: a cross-origin page can then read why it failed. */
function failWithHeaders(res: ServerResponse, headers: Headers, error: unknown): never {
  if (!res.headersSent) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  throw error;
}

/** The query, without its `?`; undefined without one, the common case. */
function queryOf(url: string | undefined): string | undefined {
  const queryStart = url?.indexOf('?') ?? -1;
  if (url === undefined || queryStart === -1) return undefined;
  const fragmentStart = url.indexOf('#', queryStart);
  return url.slice(queryStart + 1, fragmentStart === -1 ? undefined : fragmentStart);
}

/**
 * Queries whose transformation is known. Pages ask the same few variant URLs again and again,
 * and parsing one costs a microsecond of the fifty a stored variant's read takes from memory.
 */
const PARSED_QUERIES_KEPT = 1000;
/** Longer queries are parsed every time, so that the memo stays small whatever clients send. */
const LONGEST_QUERY_KEPT = 256;

/** A query parsed under the unsigned or the signed rules; `resolve` undefined when it asks no transformation. */
interface ParsedQuery {
  readonly resolve: TransformationResolver | undefined;
}

interface Signature {
  /** Unix seconds; undefined: the signature never expires. */
  readonly expiresAt: number | undefined;
}

interface UrlReading extends ParsedQuery {
  /** The Cache-Control of an answer to a signed URL that expires; undefined for all others. */
  readonly lifetime: Headers | undefined;
}

const PLAIN_READ: UrlReading = { resolve: undefined, lifetime: undefined };

/** What every answer to the request carries, and what a signature's expiry makes of its caching. */
interface AnswerHeaders {
  readonly extra: Headers;
  readonly lifetime: Headers | undefined;
}

/**
 * Whoever waits on a variant, until its answer is sent: a connection closed before then aborts
 * the signal (on a keep-alive connection, only the socket's end closes the response early).
 */
function requesterOf(req: IncomingMessage, res: ServerResponse, clientOf: ClientIdentifier): Requester {
  const gone = new AbortController();
  if (req.socket.destroyed) {
    gone.abort();
  } else {
    res.once('close', () => {
      if (!res.writableEnded) gone.abort();
    });
  }
  return { client: clientOf(req), signal: gone.signal };
}

/** A negotiated answer names Accept beside what CORS may already vary on. */
function varyingOnAccept(headers: Headers): Headers {
  const vary = headers.Vary;
  return Object.assign({}, headers, { Vary: vary === undefined ? 'Accept' : `${vary}, Accept` });
}

export function createImageReadHandler(readers: ImageReaders, options: ImageReadOptions): ImageReadHandler {
  const { signingKey, requireSignedUrls, clock } = options;
  const unsigned: TransformationRules = { ...options, sizes: options.variantSizes };
  const signed: TransformationRules = { ...unsigned, sizes: undefined };

  /**
   * Whether the URL carries a valid signature, and until when (Unix seconds) if it expires;
   * refuses a wrong or expired one, and a missing one when required.
   */
  function signatureOf(query: string, imageId: string): Signature | undefined {
    if (signingKey === undefined) return undefined;
    const parameters = new URLSearchParams(query);
    switch (checkSignature(signingKey, `/image/${imageId}`, parameters, Math.floor(clock() / 1000))) {
      case 'valid':
        return { expiresAt: expiryOf(parameters) };
      case 'invalid':
        throw new AppError('invalid-signature', 'sig does not match this URL: sign the path and its parameters as they are sent.');
      case 'expired':
        throw new AppError('invalid-signature', 'The URL expired (exp is past).');
      case 'unsigned':
        if (requireSignedUrls) throw new AppError('signature-required', 'Every read needs a signed URL (REQUIRE_SIGNED_URLS).');
        return undefined;
    }
  }

  const parsedQueries = new LRUCache<string, ParsedQuery>({ max: PARSED_QUERIES_KEPT });

  /**
   * What the URL asks for: the transformation, to be resolved against an original, and how long
   * caches may keep the answer; nothing without a query and signatures not required, at no cost.
   * The signature is checked on every request (it may expire), the parameters parsed once per query.
   */
  function readUrl(url: string | undefined, imageId: string): UrlReading {
    const query = queryOf(url) ?? (requireSignedUrls ? '' : undefined);
    if (query === undefined) return PLAIN_READ;
    const signature = signatureOf(query, imageId);
    const lifetime = signature?.expiresAt === undefined ? undefined : cacheUntil(signature.expiresAt, clock() / 1000);
    const key = `${signature ? 'signed' : 'unsigned'}?${query}`;
    const known = parsedQueries.get(key);
    if (known) return { resolve: known.resolve, lifetime };
    const parsed = parseTransformationQuery(new URLSearchParams(query), signature ? signed : unsigned);
    if (parsed !== undefined && !parsed.ok) {
      const { parameter, reason } = parsed.invalid;
      throw new AppError('invalid-transformation', `${parameter} ${reason}.`);
    }
    const resolve = parsed && resolverOf(parsed.value);
    if (query.length <= LONGEST_QUERY_KEPT) parsedQueries.set(key, { resolve });
    return { resolve, lifetime };
  }

  async function sendContent(
    req: IncomingMessage,
    res: ServerResponse,
    reader: ImageReader,
    answer: { status: number; headers: OutgoingHttpHeaders; image: ImageRecord; range?: ByteRange },
  ): Promise<void> {
    const { status, headers, image, range } = answer;
    if (req.method === 'HEAD') {
      res.writeHead(status, headers).end();
      return;
    }
    const content = await reader.readContent(image, range);
    if (content.kind === 'bytes') {
      res.writeHead(status, headers).end(content.bytes);
      return;
    }
    await sendStream(res, status, headers, content.stream);
  }

  /**
   * The same for an original and a variant: conditionals, ranges, HEAD, caching headers. A 304
   * is sent before it returns; only a body is waited on.
   */
  function deliver(
    req: IncomingMessage,
    res: ServerResponse,
    image: ImageRecord,
    reader: ImageReader,
    { extra, lifetime }: AnswerHeaders,
  ): Promise<void> | undefined {
    const representation = representationOf(image);
    const { validators } = representation;
    // Merged only for a signed URL that expires: every other read is spared a copy.
    const headers = lifetime ? merged(representation.headers, lifetime) : representation.headers;
    const notModifiedHeaders = lifetime ? merged(representation.notModifiedHeaders, lifetime) : representation.notModifiedHeaders;
    const plan = planRead(req.method, req.headers, image.size, validators);

    switch (plan.kind) {
      case 'precondition-failed':
        throw new AppError('precondition-failed', `${plan.failed} does not hold for this image: nothing is sent.`);
      case 'not-modified':
        // A 304 refreshes what a cache keeps: it must not outlive a signature either.
        res.writeHead(304, merged(extra, notModifiedHeaders)).end();
        return undefined;
      case 'unsatisfiable':
        throw new AppError('range-not-satisfiable', `The image has ${image.size} bytes.`, {
          headers: { 'Content-Range': `bytes */${image.size}` },
        });
      case 'full':
        return sendContent(req, res, reader, { status: 200, headers: merged(extra, headers, { 'Content-Length': image.size }), image });
      case 'partial': {
        const { start, end } = plan.range;
        const range = { 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${image.size}` };
        return sendContent(req, res, reader, { status: 206, headers: merged(extra, headers, range), image, range: plan.range });
      }
    }
  }

  function deliverVariant(
    req: IncomingMessage,
    res: ServerResponse,
    original: ImageRecord,
    resolve: TransformationResolver,
    { extra, lifetime }: AnswerHeaders,
  ): Promise<void> | undefined {
    const resolved = resolve(original, req.headers);
    const answerHeaders = { extra: resolved.negotiated ? varyingOnAccept(extra) : extra, lifetime };
    const sendVariant = (variant: ImageRecord) => deliver(req, res, variant, readers.variantContent, answerHeaders);
    const obtainAndSend = (send: (variant: ImageRecord) => Promise<void> | undefined) => {
      const requester = requesterOf(req, res, options.clientOf);
      return readers.variants.obtain(original, resolved, requester).then(send, (error: unknown) => {
        // Nobody is left to answer.
        if (requester.signal.aborted) return undefined;
        throw error;
      });
    };
    // Another instance's MAX_VARIANTS_PER_IMAGE may remove a variant between its lookup and its
    // read: nothing is sent yet then, and the variant is made again, once.
    const sendOrRemake = (variant: ImageRecord) =>
      sendVariant(variant)?.catch((error: unknown) => {
        if (res.headersSent || !(error instanceof AppError) || error.code !== 'image-not-found') throw error;
        return obtainAndSend(sendVariant);
      });
    const cached = readers.variants.cached(original, resolved);
    return cached ? sendOrRemake(cached) : obtainAndSend(sendOrRemake);
  }

  /**
   * Most reads revalidate hot images: with the record in memory, nothing is awaited before a
   * 304 goes out (each await costs a revalidation a few percent of its time).
   */
  function answer(req: IncomingMessage, res: ServerResponse, id: string, common: Headers): Promise<void> | undefined {
    const imageId = parseImageId(id);
    const { resolve, lifetime } = readUrl(req.url, imageId);
    const headers = { extra: common, lifetime };
    const answerFor = (original: ImageRecord) =>
      resolve
        ? deliverVariant(req, res, original, resolve, headers)
        : deliver(req, res, original, readers.originals, headers);
    const cached = readers.originals.cachedRecord(imageId);
    return cached ? answerFor(cached) : readers.originals.load(imageId).then(answerFor);
  }

  return (req, res, id, headers = NO_HEADERS) => {
    const common = Object.assign({}, headers, corsReadHeaders(options.corsOrigins, req.headers));
    // Not an async function: its promise, and the await of an answer already sent, would cost a 304 several percent.
    let pending: Promise<void> | undefined;
    try {
      pending = answer(req, res, id, common);
    } catch (error) {
      return failWithHeaders(res, common, error);
    }
    return pending?.catch((error: unknown) => failWithHeaders(res, common, error));
  };
}
