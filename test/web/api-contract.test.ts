/**
 * The web app's API types are generated from the server's OpenAPI document (scripts/openapi.ts). The
 * committed docs/openapi.json and web/src/api/schema.d.ts must be what the current routes produce, so a
 * route change that the web app has not been regenerated (and type-checked) against fails here.
 */
import fs from 'node:fs';
import { describe, expect, test } from 'vitest';
import { generateApiContract, OPENAPI_JSON, responsesAsWritten, SCHEMA_DTS } from '../../scripts/openapi.js';

const STALE = 'is stale: the API changed. Run `npm run api:types` and commit docs/openapi.json and web/src/api/schema.d.ts (then `npm run typecheck:web`).';

describe('the committed API contract', () => {
  test('docs/openapi.json and web/src/api/schema.d.ts match the routes', async () => {
    const { json, dts } = await generateApiContract();
    const committedJson = fs.existsSync(OPENAPI_JSON) ? fs.readFileSync(OPENAPI_JSON, 'utf8') : '';
    const committedDts = fs.existsSync(SCHEMA_DTS) ? fs.readFileSync(SCHEMA_DTS, 'utf8') : '';
    expect(committedJson === json, `docs/openapi.json ${STALE}`).toBe(true);
    expect(committedDts === dts, `web/src/api/schema.d.ts ${STALE}`).toBe(true);
  });

  test('the document describes the success answer of every route the app calls', () => {
    const doc = JSON.parse(fs.readFileSync(OPENAPI_JSON, 'utf8')) as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>> };
    const untyped: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.entries(op.responses).filter(([status]) => /^2/.test(status));
        if (ok.some(([status]) => status === '204')) continue;
        if (!ok.some(([, r]) => Object.values(r.content ?? {}).some((m) => m.schema && Object.keys(m.schema).length))) untyped.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});

describe('responsesAsWritten (how the types read response schemas)', () => {
  const doc = {
    paths: {
      '/x': {
        post: {
          requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { a: { type: 'string' } } } } } },
          responses: {
            200: {
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { a: { type: 'string' }, list: { type: 'array', items: { type: 'object', properties: { b: { type: 'string' } } } }, maybe: { type: 'string' } }, required: ['a', 'list'] },
                },
              },
            },
          },
        },
      },
    },
  };

  test('objects without `required` are read as complete; a declared `required` list and request bodies are left as written', () => {
    const out = responsesAsWritten(doc) as typeof doc;
    const schema = out.paths['/x'].post.responses[200].content['application/json'].schema;
    expect(schema.required).toEqual(['a', 'list']);
    expect((schema.properties.list.items as { required?: string[] }).required).toEqual(['b']);
    expect((out.paths['/x'].post.requestBody.content['application/json'].schema as { required?: string[] }).required).toBeUndefined();
    expect((doc.paths['/x'].post.responses[200].content['application/json'].schema.properties.list.items as { required?: string[] }).required).toBeUndefined();
  });
});
