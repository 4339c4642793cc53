/**
 * Shapes of the public API, derived from the generated contract (./schema.d.ts, `npm run api:types`).
 * Nothing here is written by hand except what the OpenAPI document does not describe yet (marked).
 */
import type { Body, Item, Ok } from './contract.js';
import type { components } from './schema.js';

export type User = Ok<'/api/v1/users/{id}', 'get'>;
export type Role = User['role'];
export type Seat = User['seat'];
export type UserState = User['state'];
/** What a user can set; the server answers any string it has stored. */
export type Availability = NonNullable<Body<'/api/v1/users/{id}', 'patch'>['availability']>;

export type Session = Ok<'/api/v1/session', 'get'>;

export type ConnectInput = Body<'/api/v1/connections', 'post'>;
export type ServerSettings = ConnectInput['smtp'];
export type TlsMode = ServerSettings['tls'];

export type Connection = Ok<'/api/v1/connections/{id}', 'get'>;
export type ConnectionState = Connection['state'];
/** Whether the mailbox is listening for new mail right now (null: nothing will listen, e.g. forwarding). */
export type Listening = Connection['listening'];
export type SenderNameMode = NonNullable<Body<'/api/v1/connections/{id}', 'patch'>['senderName']>['mode'];

/** `error.holder` of a 409 address_in_use refusal (the Error schema in the OpenAPI document). */
export type Holder = NonNullable<components['schemas']['Error']['error']['holder']>;

export type Inbox = Ok<'/api/v1/inboxes/{id}', 'get'>;

export type Contact = Ok<'/api/v1/contacts/{id}', 'get'>;
export type TimelineEvent = Item<Ok<'/api/v1/contacts/{id}/timeline', 'get'>['events']>;
export type ImportReport = Ok<'/api/v1/contacts/import', 'post'>;

export type WebhookEndpoint = Ok<'/api/v1/webhooks/{id}', 'get'>;
/** The answer to creating an endpoint: the endpoint and its `whsec_` signing secret, shown only then. */
export type CreatedWebhookEndpoint = Ok<'/api/v1/webhooks', 'post'>;
export type WebhookEventType = Item<Ok<'/api/v1/webhooks/event-types', 'get'>['eventTypes']>;
export type WebhookDelivery = Item<Ok<'/api/v1/webhooks/{id}/deliveries', 'get'>['deliveries']>;
