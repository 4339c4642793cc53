import type { Actor, CommandEnv } from '../../platform/context.js';
import { createCompany } from './commands/createCompany.js';
import { importContacts } from './commands/importContacts.js';
import { addContactNote } from './commands/addContactNote.js';
import { findContactsByEmail } from './commands/findContactsByEmail.js';

/**
 * Demo CRM data: two companies with domains, contacts imported from a small CSV (so the demo exercises
 * the import and company matching by domain and by name), owned by the sales users, and a note.
 * Declared as the crm feature's `demo` (src/features/crm/index.ts).
 */
export async function demoCrm(env: CommandEnv, admin: Actor): Promise<void> {
  await createCompany(env, admin, { name: 'Acme Corporation', domains: ['acme.example'] });
  await createCompany(env, admin, { name: 'Globex', domains: ['globex.example', 'globex-corp.example'] });
  const csv = [
    'email,first name,last name,company,owner email',
    'wile.coyote@acme.example,Wile E.,Coyote,,alex@demo.mailroom.local',
    'road.runner@acme.example,Road,Runner,,alex@demo.mailroom.local',
    'hank.scorpio@globex.example,Hank,Scorpio,,bea@demo.mailroom.local',
    'homer@globex-corp.example,Homer,Simpson,,bea@demo.mailroom.local',
    'peter@initech.example,Peter,Gibbons,Initech,alex@demo.mailroom.local',
    'milton@initech.example,Milton,Waddams,Initech,',
    'jane.doe@gmail.com,Jane,Doe,,',
  ].join('\n');
  await importContacts(env, admin, { csv });
  const [hank] = await findContactsByEmail(env.db, admin.accountId, ['hank.scorpio@globex.example']);
  if (hank) await addContactNote(env, admin, hank.contactId, { text: 'Met at the trade fair. Interested in the team inbox; follow up next week.' });
}
