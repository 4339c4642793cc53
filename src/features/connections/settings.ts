/**
 * The connections feature's settings, added to the commands' settings (src/platform/context.ts) by
 * interface merging; src/app/env.ts fills them from the configuration.
 */
import type { OAuthProvidersConfig } from './oauth/providers.js';

declare module '../../platform/context.js' {
  interface Settings {
    /** OAuth providers (MAILROOM_OAUTH_*); unset or empty: no OAuth buttons. */
    oauth?: OAuthProvidersConfig;
  }
}
