import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import type { Response } from 'supertest';
import { createOpenApiDocument } from '../../src/openapi/openapi-document';
import { defaultTestConfig } from './test-app';

interface MediaType {
  readonly schema?: unknown;
}

interface Operation {
  readonly responses: Record<string, { readonly content?: Record<string, MediaType> }>;
}

/** The document of a test app with the default settings, as the contract test starts one. */
const openApiDocument = createOpenApiDocument(defaultTestConfig);
const DOCUMENT_ID = 'urn:image-api:openapi';
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: DOCUMENT_ID, components: openApiDocument.components });

const HTTP_METHODS = new Set(['get', 'head', 'post', 'put', 'patch', 'delete', 'options']);

/** Every `METHOD /path` the document describes, with OpenAPI's `{param}` templates. */
export function documentedOperations(): string[] {
  return Object.entries(openApiDocument.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => HTTP_METHODS.has(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
}

interface Layer {
  readonly rawPath?: string;
  readonly route?: { readonly path: string; readonly methods: Record<string, boolean> };
  /** A router has a stack; a mounted Express app has a router. */
  readonly handle: { readonly stack?: readonly Layer[]; readonly router?: { readonly stack: readonly Layer[] } };
}

function walk(stack: readonly Layer[], prefix: string): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const path = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, '{$1}').replace(/(.)\/$/, '$1');
      return Object.keys(layer.route.methods).map((method) => `${method.toUpperCase()} ${path}`);
    }
    const mounted = layer.handle.stack ?? layer.handle.router?.stack;
    if (!mounted) return [];
    return walk(mounted, layer.rawPath === undefined || layer.rawPath === '/' ? prefix : `${prefix}${layer.rawPath}`);
  });
}

/** Every route the Express app answers, found by walking its router (Express 5's layer stack). */
export function expressOperations(app: Express): string[] {
  const router = (app as unknown as { router: { stack: readonly Layer[] } }).router;
  return walk(router.stack, '');
}

function operationOf(method: string, path: string): Operation {
  const item = (openApiDocument.paths as unknown as Record<string, Record<string, Operation | undefined>>)[path];
  const operation = item?.[method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${path} is not in the OpenAPI document`);
  return operation;
}

function mediaTypeFor(content: Record<string, MediaType>, contentType: string): MediaType | undefined {
  const essence = contentType.split(';', 1)[0]?.trim() ?? '';
  const [type] = essence.split('/');
  return content[essence] ?? content[`${type ?? ''}/*`];
}

/** Responses refer to the document's components, which ajv knows under the document's id. */
function againstDocument(schema: { $ref?: string }): object {
  return schema.$ref?.startsWith('#') ? { $ref: `${DOCUMENT_ID}${schema.$ref}` } : schema;
}

/** Fails unless the answer's status, media type and body are what the document says. */
export function expectMatchesContract(method: string, path: string, response: Response): void {
  const documented = operationOf(method, path).responses[String(response.status)];
  if (!documented) throw new Error(`${method} ${path} answered ${response.status}, which the document does not list`);
  if (!documented.content) {
    expect(response.headers['content-type']).toBeUndefined();
    return;
  }
  const contentType = response.headers['content-type'] ?? '';
  const media = mediaTypeFor(documented.content, contentType);
  if (!media) throw new Error(`${method} ${path} ${response.status} answered ${contentType}, which the document does not list`);
  // A HEAD answer has the headers of its GET and no body to check.
  if (method === 'HEAD' || !contentType.includes('json') || media.schema === undefined) return;
  const validate = ajv.compile(againstDocument(media.schema as { $ref?: string }));
  if (!validate(response.body)) {
    throw new Error(`${method} ${path} ${response.status} does not match its schema: ${ajv.errorsText(validate.errors)}`);
  }
}
