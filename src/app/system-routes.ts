import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { prometheusRegistry } from '../platform/metrics.js';
import { errorBody } from '../platform/errors.js';

export async function systemRoutes(app: FastifyInstance): Promise<void> {
  // The process that serves /metrics collects its own process metrics from its start.
  const registry = await prometheusRegistry();
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(app.deps.database.db);
      return { status: 'ok', database: app.deps.database.dialect };
    } catch {
      return reply.status(503).send(errorBody('database_unavailable', 'The database does not answer. Check DATABASE_URL and that the database is running.'));
    }
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/api/docs', { schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    return DOCS_PAGE;
  });
}

/** A dependency-free API reference rendered from the OpenAPI document. */
const DOCS_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Mailroom API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code,pre{background:#f3f4f6;border-radius:4px;padding:.1rem .3rem}pre{padding:.75rem;overflow:auto}
h2{border-bottom:1px solid #ddd;margin-top:2rem}.m{display:inline-block;min-width:4.5rem;font-weight:700}
.GET{color:#0a6}.POST{color:#06c}.PATCH{color:#a60}.DELETE{color:#c22}.PUT{color:#a60}details{margin:.3rem 0}</style></head>
<body><h1>Mailroom API</h1><p>All routes live under <code>/api/v1</code>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>
(create one with <code>npx mailroom token create</code>) or the browser session. Errors always look like
<code>{"error":{"code":"snake_case","message":"what to do","holder"?,"resolution"?,"details"?:{...}}}</code> (the Error schema). The machine-readable document is
<a href="/api/openapi.json">/api/openapi.json</a>.</p><div id="routes">Loading…</div>
<script>
fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{
  const byTag={};
  for(const [p,ops] of Object.entries(doc.paths)) for(const [m,op] of Object.entries(ops)){
    const t=(op.tags&&op.tags[0])||'other';(byTag[t]=byTag[t]||[]).push({p,m:m.toUpperCase(),op});}
  const el=document.getElementById('routes');el.textContent='';
  for(const [t,list] of Object.entries(byTag)){const h=document.createElement('h2');h.textContent=t;el.append(h);
    for(const r of list){const d=document.createElement('details');const s=document.createElement('summary');
      s.innerHTML='<span class="m '+r.m+'"></span><code></code> ';s.querySelector('.m').textContent=r.m;
      s.querySelector('code').textContent=r.p;s.append(document.createTextNode(r.op.summary||''));d.append(s);
      const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:r.op.parameters,requestBody:r.op.requestBody,responses:r.op.responses},null,2);
      d.append(pre);el.append(d);}}
});
</script></body></html>`;
