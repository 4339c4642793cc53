import { api } from './client.js';
import type { Ok } from './contract.js';

export type Team = Ok<'/api/v1/teams/{id}', 'get'>;

export const listTeams = () => api.get<Ok<'/api/v1/teams', 'get'>>('/teams').then((r) => r.teams);
export const createTeam = (name: string) => api.post<Team>('/teams', { name });
export type TeamDeletion = Ok<'/api/v1/teams/{id}', 'delete'>;
export const renameTeam = (id: string, name: string) => api.patch<Team>(`/teams/${encodeURIComponent(id)}`, { name });
export const deleteTeam = (id: string) => api.del<TeamDeletion>(`/teams/${encodeURIComponent(id)}`);
