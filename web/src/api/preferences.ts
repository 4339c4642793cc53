/** Personal email preferences, the BCC logging address and the account's logging rule (issue 6). */
import { api } from './client.js';

export type LogRule = 'replies_only' | 'all_known_contacts';
export interface DefaultFont {
  family: string;
  sizePx: number;
  color: string;
  css?: string;
}

export interface EmailPreferences {
  log: boolean;
  trackOpens: boolean;
  trackClicks: boolean;
  font: DefaultFont | null;
  signature: string | null;
  neverLog: string[];
  fromAddresses: Array<{ connectionId: string; address: string; isDefault: boolean }>;
  loggingAddress: string | null;
  accountRule: { logRule: LogRule; createContacts: boolean };
  trackingAvailable: boolean;
  maxAttachmentBytes: number;
  fontFamilies: string[];
}

export interface PreferencesPatch {
  log?: boolean;
  trackOpens?: boolean;
  trackClicks?: boolean;
  font?: { family: string; sizePx: number; color: string } | null;
  signature?: string | null;
  neverLog?: string[];
}

export interface AccountEmailSettings {
  logRule: LogRule;
  createContacts: boolean;
  neverLog: string[];
}

export const getPreferences = () => api.get<EmailPreferences>('/email-preferences');
export const updatePreferences = (patch: PreferencesPatch) => api.patch<EmailPreferences>('/email-preferences', patch);
export const getLoggingAddress = () => api.get<{ address: string; acceptsFrom: string[] }>('/email-preferences/logging-address');
export const getAccountEmailSettings = () => api.get<AccountEmailSettings>('/account/email-settings');
export const updateAccountEmailSettings = (patch: Partial<AccountEmailSettings>) => api.patch<AccountEmailSettings>('/account/email-settings', patch);
