/** Personal email preferences, the BCC logging address and the account's logging rule (issue 6). */
import { api } from './client.js';
import type { Body, Ok } from './contract.js';

export type EmailPreferences = Ok<'/api/v1/email-preferences', 'get'>;
export type PreferencesPatch = Body<'/api/v1/email-preferences', 'patch'>;
export type DefaultFont = NonNullable<EmailPreferences['font']>;
export type AccountEmailSettings = Ok<'/api/v1/account/email-settings', 'get'>;
export type AccountEmailSettingsPatch = Body<'/api/v1/account/email-settings', 'patch'>;
export type LogRule = AccountEmailSettings['logRule'];

export const getPreferences = () => api.get<EmailPreferences>('/email-preferences');
export const updatePreferences = (patch: PreferencesPatch) => api.patch<EmailPreferences>('/email-preferences', patch);
export const getLoggingAddress = () => api.get<Ok<'/api/v1/email-preferences/logging-address', 'get'>>('/email-preferences/logging-address');
export const getAccountEmailSettings = () => api.get<AccountEmailSettings>('/account/email-settings');
export const updateAccountEmailSettings = (patch: AccountEmailSettingsPatch) => api.patch<AccountEmailSettings>('/account/email-settings', patch);
