/** The CRM API: contacts (with timelines, notes and CSV import) and companies. Registered by src/app/http.ts under /api/v1. */
import type { ApiApp } from '../../../platform/http/typed.js';
import { contactRoutes } from './contacts.js';
import { companyRoutes } from './companies.js';

export async function crmRoutes(app: ApiApp): Promise<void> {
  await app.register(contactRoutes);
  await app.register(companyRoutes);
}
