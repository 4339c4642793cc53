import { api } from './client.js';
import type { Role, Seat, User, UserState } from './types.js';

export const listUsers = (state?: UserState) => api.get<{ users: User[] }>('/users', { state }).then((r) => r.users);

export interface InviteInput {
  email: string;
  name: string;
  role: Role;
  seat: Seat;
  teamIds?: string[];
}
export const inviteUser = (input: InviteInput) => api.post<{ user: User; generatedPassword?: string }>('/users', input);

export type UserPatch = Partial<Pick<User, 'role' | 'seat' | 'name' | 'teamIds'>> & { permissions?: Partial<User['permissions']>; primaryTeamId?: string; availability?: 'available' | 'away' };
export const updateUser = (id: string, patch: UserPatch) => api.patch<User>(`/users/${encodeURIComponent(id)}`, patch);

export type UserStateAction = 'deactivate' | 'remove' | 'restore';
export const changeUserState = (id: string, action: UserStateAction) => api.post<User>(`/users/${encodeURIComponent(id)}/${action}`);
