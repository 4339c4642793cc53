import { api } from './client.js';
import type { Body, Item, Ok, Query } from './contract.js';

export type Sequence = Ok<'/api/v1/sequences/{id}', 'get'>;
export type SequenceInput = Body<'/api/v1/sequences', 'post'>;
export type StepInput = Item<NonNullable<SequenceInput['steps']>>;
export type Enrollment = Item<Ok<'/api/v1/sequence-enrollments', 'get'>['enrollments']>;
export type EnrollmentDetail = Ok<'/api/v1/sequence-enrollments/{id}', 'get'>;
export type SequenceTask = Item<Ok<'/api/v1/sequence-tasks', 'get'>['tasks']>;

const enc = encodeURIComponent;
export const listSequences = () => api.get<Ok<'/api/v1/sequences', 'get'>>('/sequences').then((r) => r.sequences);
export const getSequence = (id: string) => api.get<Sequence>(`/sequences/${enc(id)}`);
export const createSequence = (input: SequenceInput) => api.post<Sequence>('/sequences', input);
export const updateSequence = (id: string, input: Body<'/api/v1/sequences/{id}', 'patch'>) => api.patch<Sequence>(`/sequences/${enc(id)}`, input);
export const archiveSequence = (id: string, archived = true) => api.post<Sequence>(`/sequences/${enc(id)}/archive`, { archived });
export const enroll = (sequenceId: string, input: Body<'/api/v1/sequences/{id}/enrollments', 'post'>) => api.post<Enrollment>(`/sequences/${enc(sequenceId)}/enrollments`, input);
export type BulkEnrollResult = Ok<'/api/v1/sequences/{id}/enrollments/bulk', 'post'>;
export const enrollMany = (sequenceId: string, input: Body<'/api/v1/sequences/{id}/enrollments/bulk', 'post'>) => api.post<BulkEnrollResult>(`/sequences/${enc(sequenceId)}/enrollments/bulk`, input);
export const listEnrollments = (query: Query<'/api/v1/sequence-enrollments', 'get'> = {}) =>
  api.get<Ok<'/api/v1/sequence-enrollments', 'get'>>('/sequence-enrollments', query).then((r) => r.enrollments);
export const getEnrollment = (id: string) => api.get<EnrollmentDetail>(`/sequence-enrollments/${enc(id)}`);
export const unenroll = (id: string) => api.post<Enrollment>(`/sequence-enrollments/${enc(id)}/unenroll`);
export const resume = (id: string) => api.post<Enrollment>(`/sequence-enrollments/${enc(id)}/resume`);
export const listTasks = () => api.get<Ok<'/api/v1/sequence-tasks', 'get'>>('/sequence-tasks').then((r) => r.tasks);
export const completeTask = (enrollmentId: string, stepIndex: number, outcome: 'done' | 'skipped' = 'done') =>
  api.post<unknown>(`/sequence-enrollments/${enc(enrollmentId)}/tasks`, { stepIndex, outcome });
