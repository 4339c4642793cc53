import { api } from './client.js';
import type { Body, Ok } from './contract.js';
import type { User, UserState } from './types.js';

export const listUsers = (state?: UserState) => api.get<Ok<'/api/v1/users', 'get'>>('/users', { state }).then((r) => r.users);

export type InviteInput = Body<'/api/v1/users', 'post'>;
export const inviteUser = (input: InviteInput) => api.post<Ok<'/api/v1/users', 'post'>>('/users', input);

export type UserPatch = Body<'/api/v1/users/{id}', 'patch'>;
export const updateUser = (id: string, patch: UserPatch) => api.patch<User>(`/users/${encodeURIComponent(id)}`, patch);

export type UserStateAction = 'deactivate' | 'remove' | 'restore';
export const changeUserState = (id: string, action: UserStateAction) => api.post<User>(`/users/${encodeURIComponent(id)}/${action}`);
