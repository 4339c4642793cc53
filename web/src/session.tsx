import { createContext, useContext } from 'react';
import type { Session, User } from './api/types.js';

export interface SessionContextValue {
  session: Session;
  /** Replace the signed-in user after a change (availability, name...). */
  setUser: (u: User) => void;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside the signed-in app');
  return s;
}
