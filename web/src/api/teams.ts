import { api } from './client.js';

export interface Team {
  id: string;
  name: string;
  memberIds: string[];
  createdAt: string;
}

export const listTeams = () => api.get<{ teams: Team[] }>('/teams').then((r) => r.teams);
export const createTeam = (name: string) => api.post<Team>('/teams', { name });
