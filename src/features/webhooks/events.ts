/**
 * The catalogue's types become the platform's event types: `recordEvent` (src/platform/events.ts)
 * accepts exactly the events of catalogue.ts, with their `data`.
 */
import type { EventCatalogue } from './catalogue.js';

declare module '../../platform/events.js' {
  interface EventTypes extends EventCatalogue {}
}
