/**
 * The personal email API: email from a contact's record, scheduled emails, tracking details, preferences,
 * templates and snippets. Registered by src/app/http.ts under /api/v1. The tracking pixel and links
 * (./tracking.ts) are public and registered outside the API.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { personalEmailRoutes } from './personal-email.js';
import { emailTemplateRoutes } from './email-templates.js';

export async function personalRoutes(app: ApiApp): Promise<void> {
  await app.register(personalEmailRoutes);
  await app.register(emailTemplateRoutes);
}
