import { api, request, setCsrfToken } from './client.js';
import type { Availability, Session, User } from './types.js';

export async function currentSession(): Promise<Session | null> {
  try {
    const s = await request<Session>('GET', '/session', undefined, { quiet401: true });
    setCsrfToken(s.csrfToken);
    return s;
  } catch (e) {
    if ((e as { status?: number }).status === 401) return null;
    throw e;
  }
}

export async function signIn(email: string, password: string): Promise<Session> {
  const s = await request<Session>('POST', '/session', { email, password }, { quiet401: true });
  setCsrfToken(s.csrfToken);
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await api.del<void>('/session');
  } finally {
    setCsrfToken('');
  }
}

export const setAvailability = (userId: string, availability: Availability) => api.patch<User>(`/users/${encodeURIComponent(userId)}`, { availability });
