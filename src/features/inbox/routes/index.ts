/** The conversations inbox API: inboxes, their conversations and settings. Registered by src/app/http.ts under /api/v1. */
import type { ApiApp } from '../../../platform/http/typed.js';
import { inboxesRoutes } from './inboxes.js';
import { conversationRoutes } from './conversations.js';
import { inboxSettingsRoutes } from './inbox-settings.js';

export async function inboxRoutes(app: ApiApp): Promise<void> {
  await app.register(inboxesRoutes);
  await app.register(conversationRoutes);
  await app.register(inboxSettingsRoutes);
}
