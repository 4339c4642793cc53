// oidc-provider ships no type declarations; the test harness uses a small part of it.
declare module 'oidc-provider' {
  export type AdapterPayload = Record<string, any>;
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, any>);
    proxy: boolean;
    use(middleware: (ctx: any, next: () => Promise<void>) => Promise<void>): void;
    callback(): (req: any, res: any) => void;
    on(event: string, listener: (...args: any[]) => void): void;
  }
}
