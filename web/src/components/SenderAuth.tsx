import type { ConversationMessage } from '../api/conversations.js';

const policyWords: Record<string, string> = { reject: 'be rejected', quarantine: 'be treated as spam' };

/**
 * Who vouches for an inbound message, as mail clients show it: "mailed by" (the envelope domain SPF
 * authorised) and "signed by" (domains with a valid DKIM signature), with the full results one click
 * away; a warning when the From failed DMARC. Nothing for messages that were not checked (IMAP, sent).
 */
export function SenderAuth({ auth, from }: { auth: ConversationMessage['senderAuth']; from: string | null }) {
  if (!auth) return null;
  const failed = auth.dmarc?.result === 'fail';
  return (
    <div className="sender-auth small">
      {auth.flagged ? (
        <p className="sender-auth-warning sender-auth-bad" role="note">
          <strong>Possibly forged sender.</strong> This message says it is from {from ?? 'an unknown address'}, but it failed that domain's checks (DMARC), and {auth.dmarc?.domain}{' '}
          asks that such mail {policyWords[auth.dmarc?.policy ?? ''] ?? 'be refused'}. It is kept here, but not linked to a contact nor added to a contact's timeline.
        </p>
      ) : (
        failed && (
          <p className="sender-auth-warning" role="note">
            <strong>Sender not verified.</strong> This message failed the DMARC check of {auth.dmarc?.domain}; it may not be from {from ?? 'who it says'}.
          </p>
        )
      )}
      <details className="sender-auth-details muted">
        <summary>
          {auth.mailedBy ? <>mailed by {auth.mailedBy}</> : 'mailed by: not verified'}
          {' · '}
          {auth.signedBy.length ? <>signed by {auth.signedBy.join(', ')}</> : 'not signed'}
        </summary>
        <dl>
          <dt>SPF</dt>
          <dd>
            {auth.spf.result}
            {auth.spf.domain ? ` (${auth.spf.domain})` : ''}
          </dd>
          <dt>DKIM</dt>
          <dd>{auth.dkim.length ? auth.dkim.map((d) => `${d.result} (${d.domain}${d.aligned ? ', matches the From' : ''})`).join('; ') : 'none (not signed)'}</dd>
          <dt>DMARC</dt>
          <dd>{auth.dmarc ? `${auth.dmarc.result} (${auth.dmarc.domain}, policy ${auth.dmarc.policy ?? 'none published'})` : 'none'}</dd>
          {auth.arc && (
            <>
              <dt>ARC</dt>
              <dd>
                {auth.arc.result} ({auth.arc.instance} forwarding {auth.arc.instance === 1 ? 'hop' : 'hops'}
                {auth.arc.sealer ? `, last by ${auth.arc.sealer}` : ''})
              </dd>
            </>
          )}
        </dl>
      </details>
    </div>
  );
}
