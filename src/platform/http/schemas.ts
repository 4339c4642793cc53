/** Shared JSON schemas of API objects. */
export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string', enum: ['super_admin', 'admin', 'member'] },
    seat: { type: 'string', enum: ['paid', 'free', 'view_only'] },
    state: { type: 'string', enum: ['active', 'deactivated', 'removed'] },
    permissions: {
      type: 'object',
      properties: { personalEmail: { type: 'boolean' }, accountAccess: { type: 'boolean' }, availabilityManagement: { type: 'boolean' } },
    },
    primaryTeamId: { type: ['string', 'null'] },
    teamIds: { type: 'array', items: { type: 'string' } },
    availability: { type: 'string' },
    workingHours: { type: ['object', 'null'], additionalProperties: true },
    emailNotifications: { type: 'boolean', description: 'Notifications are also emailed (when the server sends notification email)' },
    undoSendSeconds: { type: 'integer', minimum: 0, maximum: 30, description: 'Undo send: replies and one-to-one emails wait this long before they leave (default 10; 0: at once)' },
    createdAt: { type: 'string' },
  },
} as const;

export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

export const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
    cursor: { type: 'string', maxLength: 200 },
    q: { type: 'string', maxLength: 200 },
  },
} as const;

/** The error responses of every route (4xx and 5xx are the one `Error` schema, see http/errors.ts). */
export { errorResponses } from './errors.js';
